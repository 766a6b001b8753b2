/**
 * `@roamhq/wrtc` builds `localDescription` by serialising the native description
 * on the JavaScript thread, while its network thread adds each gathered ICE
 * candidate to that same description. Reading it during gathering, which
 * simple-peer does right after `setLocalDescription`, can crash the process
 * (SIGSEGV in `webrtc::SdpSerialize`; seen in about one run in six of the 12-peer
 * test while another WebRTC process ran).
 *
 * The remote description is read the same way (simple-peer reads it for each
 * trickled candidate) while `addIceCandidate` writes to it.
 *
 * The guard answers both from the descriptions we set, plain copies: they carry
 * what is read from them (type, ICE credentials, DTLS fingerprint); candidates
 * travel separately, by trickle. wrtc defines the properties on each instance,
 * not configurable, so the guard is a proxy. Browsers do not need it.
 */
interface WrtcModule {
  RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection
}

const guarded = new WeakMap<object, object>()

export function guardWrtc(wrtc: object): object {
  const known = guarded.get(wrtc)
  if (known !== undefined) return known
  const Native = (wrtc as WrtcModule).RTCPeerConnection
  if (typeof Native !== 'function') return wrtc
  function GuardedPeerConnection(config?: RTCConfiguration): RTCPeerConnection {
    const pc = new Native(config)
    let local: RTCSessionDescriptionInit | null = null
    let remote: RTCSessionDescriptionInit | null = null
    const copy = (d: RTCSessionDescriptionInit | undefined): RTCSessionDescriptionInit | null =>
      d?.type === undefined || d.sdp === undefined ? null : { type: d.type, sdp: d.sdp }
    const setLocalDescription = async (description?: RTCLocalSessionDescriptionInit): Promise<void> => {
      await pc.setLocalDescription(description)
      local = copy(description as RTCSessionDescriptionInit | undefined) ?? local
    }
    const setRemoteDescription = async (description: RTCSessionDescriptionInit): Promise<void> => {
      await pc.setRemoteDescription(description)
      remote = copy(description) ?? remote
    }
    return new Proxy(pc, {
      get(target, key) {
        if (key === 'localDescription') return local
        if (key === 'remoteDescription') return remote
        if (key === 'setLocalDescription') return setLocalDescription
        if (key === 'setRemoteDescription') return setRemoteDescription
        const value: unknown = Reflect.get(target, key, target)
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
      set: (target, key, value) => Reflect.set(target, key, value, target),
    })
  }
  const out = { ...wrtc, RTCPeerConnection: GuardedPeerConnection }
  guarded.set(wrtc, out)
  return out
}
