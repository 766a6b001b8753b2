import SimplePeer from 'simple-peer'
import type { Clock, Crypto, KeyPair, Log, TimerHandle, Timers } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import type { ConnectFailure, Connection, ConnectionEvents, LinkPath, SignalData } from '../../link/transport.js'
import { iceSummary, type IceServer } from '../ice-servers.js'
import { candidateType, IceFacts, selectedPath } from './ice-facts.js'
import { LinkAuth, MAX_AUTH_MESSAGE_BYTES, type Fingerprints } from './link-auth.js'
import { parseWebRtcSignal, sdpFingerprints } from './sdp.js'

/** simple-peer internals we rely on: its data channel, peer connection and ICE timer. */
interface PeerInternals {
  _channel: RTCDataChannel | null
  _pc: RTCPeerConnection | null
  /** A 5 s timer simple-peer's destroy() forgets; it would keep Node alive after close. */
  _iceCompleteTimer: ReturnType<typeof setTimeout> | null
}

type Peer = SimplePeer.Instance & PeerInternals
type State = 'connecting' | 'open' | 'closed'

export interface WebRtcConnectionComponents {
  keyPair: KeyPair
  crypto: Crypto
  clock: Clock
  timers: Timers
  log: Log
  /** Node's WebRTC (`@roamhq/wrtc`); undefined in browsers. */
  wrtc?: object
  observe?: (event: 'dial' | 'open', remote: PeerId) => void
}

export interface WebRtcConnectionInit {
  localId: PeerId
  remote: PeerId
  initiator: boolean
  nonce: Uint8Array
  iceServers: readonly IceServer[]
  authTimeoutMs: number
  drainPollMs: number
  bufferedSampleMs: number
  maxSdpBytes: number
  maxCandidates: number
  /** How often an open connection reads its selected candidate pair again (ICE may switch pairs). */
  pathRefreshMs: number
  iceTransportPolicy: 'all' | 'relay'
}

/**
 * One WebRTC data channel to a remote peer, set up by simple-peer and then used
 * directly: messages, `bufferedAmount` and drain events come from the
 * RTCDataChannel itself, not simple-peer's stream, so the link layer's scheduler
 * owns the queue. The channel is pre-negotiated (id 0) so both sides hold it from
 * the start. It opens for the link layer only after both sides proved their peer
 * ids ({@link LinkAuth}).
 */
export class WebRtcConnection implements Connection {
  readonly remote: PeerId
  private readonly peer: Peer | undefined
  private readonly channel: RTCDataChannel | null = null
  /**
   * Browsers fire `bufferedamountlow` and keep `bufferedAmount` in JS. @roamhq/wrtc
   * has no event, and each read of its `bufferedAmount` is a blocking hop to
   * libwebrtc's signaling thread (~10 us here), so there we sample it at most every
   * `bufferedSampleMs`, add what we sent since (as Blink counts), and poll for drains.
   */
  private readonly nativeDrain: boolean = false
  private sampled = 0
  private sampledAt = -Infinity
  private sentSinceSample = 0
  private readonly auth: LinkAuth
  private state: State = 'connecting'
  private threshold = 0
  private authTimer: TimerHandle | undefined
  private drainTimer: TimerHandle | undefined
  private descriptions = 0
  private candidates = 0
  private readonly ice: IceFacts
  private currentPath: LinkPath | undefined
  private pathTimer: TimerHandle | undefined

  constructor(
    private readonly c: WebRtcConnectionComponents,
    private readonly init: WebRtcConnectionInit,
    private readonly events: ConnectionEvents,
  ) {
    this.remote = init.remote
    this.auth = new LinkAuth(c, init)
    this.ice = new IceFacts(iceSummary(init.iceServers))
    if (!init.initiator) this.ice.answered = true
    let peer: Peer
    try {
      peer = new SimplePeer({
        initiator: init.initiator,
        trickle: true,
        config: { iceServers: [...init.iceServers], iceTransportPolicy: init.iceTransportPolicy },
        channelConfig: { negotiated: true, id: 0, ordered: true },
        channelName: 'p2p-world',
        ...(c.wrtc === undefined ? {} : { wrtc: c.wrtc as SimplePeer.Options['wrtc'] }),
      }) as Peer
    } catch (err) {
      this.failSoon(`webrtc-unavailable: ${(err as Error).message}`)
      return
    }
    this.peer = peer
    peer.on('signal', (data) => {
      if (this.state === 'closed') return
      const type = candidateType((data as { candidate?: { candidate?: unknown } }).candidate?.candidate)
      if (type !== undefined) this.ice.local.add(type)
      this.events.onSignal(data as unknown as SignalData)
    })
    peer.on('iceStateChange', (iceState: string, gathering: string) => {
      this.ice.iceState = iceState
      this.ice.gathering = gathering
    })
    const pc = peer._pc as (RTCPeerConnection & { addEventListener?: unknown }) | null
    if (pc !== null && typeof pc.addEventListener === 'function') {
      pc.addEventListener('icecandidateerror', (e: Event) => {
        const code = (e as Event & { errorCode?: unknown }).errorCode
        if (typeof code === 'number') this.ice.addServerError(code)
      })
    }
    peer.on('connect', () => this.startAuth())
    peer.on('error', (err: Error & { code?: string }) => this.fail(`webrtc: ${err.code ?? err.message}`))
    peer.on('close', () => this.fail('remote-closed'))
    const channel = peer._channel
    if (channel === null) {
      this.failSoon('webrtc: no data channel')
      return
    }
    this.channel = channel
    this.nativeDrain = typeof channel.bufferedAmountLowThreshold === 'number'
    channel.onmessage = (event: MessageEvent) => this.onMessage(event.data)
    if (this.nativeDrain) channel.onbufferedamountlow = () => this.state === 'open' && this.events.onDrain()
  }

  get bufferedAmount(): number {
    if (this.state !== 'open' || this.channel === null) return 0
    if (this.nativeDrain) return this.channel.bufferedAmount
    const now = this.c.clock.now()
    if (now - this.sampledAt >= this.init.bufferedSampleMs) this.sample(now)
    const amount = this.sampled + this.sentSinceSample
    // Whoever saw the buffer over the threshold now waits for a drain, which the
    // poll must deliver.
    if (amount > this.threshold) this.watchDrain()
    return amount
  }

  get bufferedAmountLowThreshold(): number {
    return this.threshold
  }

  set bufferedAmountLowThreshold(bytes: number) {
    this.threshold = bytes
    if (this.nativeDrain && this.channel !== null) this.channel.bufferedAmountLowThreshold = bytes
  }

  get path(): LinkPath | undefined {
    return this.currentPath
  }

  failure(): ConnectFailure | undefined {
    return this.state === 'open' ? undefined : this.ice.explain()
  }

  /** For benchmarks and diagnostics only: sending on it bypasses the link layer. */
  get rawChannel(): RTCDataChannel | null {
    return this.state === 'open' ? this.channel : null
  }

  signal(data: SignalData): void {
    if (this.state === 'closed' || this.peer === undefined) return
    const clean = parseWebRtcSignal(data, this.init.initiator, { maxSdpBytes: this.init.maxSdpBytes })
    if (clean === null) return
    // One description each way and a bounded number of candidates: we never renegotiate.
    if (clean.type === 'candidate' ? ++this.candidates > this.init.maxCandidates : ++this.descriptions > 1) return
    if (clean.type === 'candidate') {
      const type = candidateType((clean.candidate as { candidate: string }).candidate)
      if (type !== undefined) this.ice.remote.add(type)
    } else {
      this.ice.answered = true
    }
    try {
      this.peer.signal(clean as unknown as SimplePeer.SignalData)
    } catch (err) {
      this.c.log.debug('webrtc: signal rejected', { remote: this.remote.slice(0, 12), err })
    }
  }

  send(data: Uint8Array): void {
    if (this.state !== 'open' || this.channel === null) return
    try {
      this.channel.send(data as Uint8Array<ArrayBuffer>)
    } catch (err) {
      this.failSoon(`send-failed: ${(err as Error).message}`)
      return
    }
    this.sentSinceSample += data.length
  }

  close(): void {
    if (this.state === 'closed') return
    this.shutdown()
  }

  private startAuth(): void {
    if (this.state !== 'connecting' || this.authTimer !== undefined) return
    this.authTimer = this.c.timers.setTimeout(() => this.fail('auth-timeout'), this.init.authTimeoutMs)
    for (const m of this.auth.start()) this.rawSend(m)
  }

  private onMessage(data: unknown): void {
    if (this.state === 'closed') return
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null
    if (this.state === 'open') {
      if (bytes !== null) this.events.onData(bytes)
      return
    }
    if (bytes === null || bytes.length > MAX_AUTH_MESSAGE_BYTES) return this.fail('auth-failed: unexpected message before authentication')
    // The remote may finish its side (and send) before simple-peer tells us we are connected.
    this.startAuth()
    const step = this.auth.receive(bytes, () => this.fingerprints())
    if (step.error !== undefined) {
      this.c.log.warn('webrtc: peer authentication failed', { remote: this.remote.slice(0, 12), reason: step.error })
      return this.fail(`auth-failed: ${step.error}`)
    }
    for (const m of step.send) this.rawSend(m)
    if (!step.open) return
    this.state = 'open'
    this.c.timers.clearTimeout(this.authTimer)
    this.authTimer = undefined
    this.readPath()
    this.c.observe?.('open', this.remote)
    this.events.onOpen()
  }

  /** Reads the selected candidate pair now and again every `pathRefreshMs` while open. */
  private readPath(): void {
    const pc = this.peer?._pc
    if (this.state !== 'open' || pc === null || pc === undefined) return
    pc.getStats().then(
      (report) => {
        if (this.state !== 'open') return
        this.currentPath = selectedPath(report.values() as Iterable<Record<string, unknown>>) ?? this.currentPath
      },
      () => {},
    )
    this.pathTimer = this.c.timers.setTimeout(() => this.readPath(), this.init.pathRefreshMs)
  }

  private fingerprints(): Fingerprints | null {
    const pc = this.peer?._pc
    const local = sdpFingerprints(pc?.localDescription?.sdp)
    const remote = sdpFingerprints(pc?.remoteDescription?.sdp)
    return local === null || remote === null ? null : { local, remote }
  }

  private rawSend(bytes: Uint8Array): void {
    try {
      this.channel?.send(bytes as Uint8Array<ArrayBuffer>)
    } catch (err) {
      this.failSoon(`send-failed: ${(err as Error).message}`)
    }
  }

  private sample(now: number): void {
    this.sampled = this.channel?.bufferedAmount ?? 0
    this.sampledAt = now
    this.sentSinceSample = 0
  }

  /** Polls `bufferedAmount` until it falls to the threshold, where the event is missing. */
  private watchDrain(): void {
    if (this.drainTimer !== undefined) return
    this.drainTimer = this.c.timers.setTimeout(() => {
      this.drainTimer = undefined
      if (this.state !== 'open') return
      this.sample(this.c.clock.now())
      if (this.sampled <= this.threshold) this.events.onDrain()
      else this.watchDrain()
    }, this.init.drainPollMs)
  }

  private fail(reason: string): void {
    if (this.state === 'closed') return
    this.shutdown()
    this.events.onClose(reason)
  }

  /** Closes from inside one of our own calls: the event must not fire re-entrantly. */
  private failSoon(reason: string): void {
    this.c.timers.setTimeout(() => this.fail(reason), 0)
  }

  private shutdown(): void {
    this.state = 'closed'
    if (this.authTimer !== undefined) this.c.timers.clearTimeout(this.authTimer)
    if (this.drainTimer !== undefined) this.c.timers.clearTimeout(this.drainTimer)
    if (this.pathTimer !== undefined) this.c.timers.clearTimeout(this.pathTimer)
    this.authTimer = this.drainTimer = this.pathTimer = undefined
    if (this.channel !== null) {
      this.channel.onmessage = null
      this.channel.onbufferedamountlow = null
    }
    const peer = this.peer
    if (peer === undefined) return
    peer.removeAllListeners()
    peer.on('error', () => {})
    peer.destroy()
    if (peer._iceCompleteTimer !== null) clearTimeout(peer._iceCompleteTimer)
  }
}
