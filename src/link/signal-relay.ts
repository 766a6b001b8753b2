import { encodeFrame, isBytes } from '../core/codec.js'
import { idToBytes, peerIdFromBytes, type PeerId } from '../core/id.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import type { SignalData } from './transport.js'

/** Signaling data relayed one hop through a linked peer (an introduction). */
export interface SignalRelay {
  readonly to: PeerId
  readonly from: PeerId
  readonly initiator: boolean
  readonly data: SignalData
}

export function encodeSignalRelay(to: PeerId, from: PeerId, initiator: boolean, data: SignalData): Uint8Array {
  return encodeFrame(LINK_PROTO, LinkMsg.SIGNAL, [idToBytes(to), idToBytes(from), initiator ? 1 : 0, data])
}

/** Validates a SIGNAL payload from a remote peer; null when malformed. */
export function decodeSignalRelay(payload: unknown): SignalRelay | null {
  if (!Array.isArray(payload) || payload.length !== 4) return null
  const [to, from, initiator, data] = payload as [unknown, unknown, unknown, unknown]
  if (!isBytes(to) || !isBytes(from) || (initiator !== 0 && initiator !== 1)) return null
  if (!isSignalData(data)) return null
  const toId = peerIdFromBytes(to)
  const fromId = peerIdFromBytes(from)
  if (toId === null || fromId === null) return null
  return { to: toId, from: fromId, initiator: initiator === 1, data }
}

export function isSignalData(v: unknown): v is SignalData {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}
