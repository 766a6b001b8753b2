import type { SignalData } from '../../link/transport.js'

/**
 * The DTLS certificate fingerprints an SDP announces (`a=fingerprint:` lines),
 * normalised to lower case, de-duplicated, sorted and joined; null if none.
 * DTLS only completes with a peer holding the certificate that matches, so this
 * names the far end of the encrypted channel as this side sees it.
 */
export function sdpFingerprints(sdp: unknown): string | null {
  if (typeof sdp !== 'string') return null
  const found = new Set<string>()
  for (const m of sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) {
    found.add(`${m[1]!.toLowerCase()} ${m[2]!.toLowerCase()}`)
  }
  return found.size === 0 ? null : [...found].sort().join(',')
}

export interface WebRtcSignalLimits {
  /** @default 16384 */
  maxSdpBytes?: number
  /** @default 1024 */
  maxCandidateBytes?: number
}

/**
 * Validates signaling data from a remote before simple-peer sees it: an offer
 * (to a responder), an answer (to an initiator) or one ICE candidate, rebuilt
 * with only the fields simple-peer reads. Anything else (renegotiation requests,
 * unknown types, oversized strings) returns null and is ignored.
 */
export function parseWebRtcSignal(data: SignalData, initiator: boolean, limits: WebRtcSignalLimits = {}): SignalData | null {
  const maxSdp = limits.maxSdpBytes ?? 16 * 1024
  const maxCandidate = limits.maxCandidateBytes ?? 1024
  const { type } = data
  if (type === 'offer' || type === 'answer') {
    if ((type === 'offer') === initiator) return null
    const sdp = data.sdp
    return typeof sdp === 'string' && sdp.length > 0 && sdp.length <= maxSdp ? { type, sdp } : null
  }
  if (type !== 'candidate') return null
  const c = data.candidate
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return null
  const { candidate, sdpMLineIndex, sdpMid } = c as Record<string, unknown>
  if (typeof candidate !== 'string' || candidate.length > maxCandidate) return null
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null && !(Number.isInteger(sdpMLineIndex) && (sdpMLineIndex as number) >= 0 && (sdpMLineIndex as number) < 64)) return null
  if (sdpMid !== undefined && sdpMid !== null && !(typeof sdpMid === 'string' && sdpMid.length <= 64)) return null
  return { type, candidate: { candidate, sdpMLineIndex: sdpMLineIndex ?? null, sdpMid: sdpMid ?? null } }
}
