import { encodeFrame, isBytes } from '../core/codec.js'
import { idToBytes, peerIdFromBytes, type PeerId } from '../core/id.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import type { SignalData } from './transport.js'

/** Longest relay route a frame may carry (the longest an introduction may take through the overlay). */
export const MAX_ROUTE_HOPS = 32

/** Signaling data relayed through linked peers (an introduction). */
export interface SignalRelay {
  readonly to: PeerId
  readonly from: PeerId
  readonly initiator: boolean
  readonly data: SignalData
  /** The relays from `from` towards `to`; empty: the one peer that passed it on. */
  readonly route: readonly PeerId[]
}

/**
 * A SIGNAL frame: [to, from, initiator, data, route?]. An id the receiver
 * knows goes as nil (1 byte instead of 34): `from` when we are the origin (the
 * first hop takes it from the link it came over), `to` when the receiver is
 * the target. So an introduction's two hops carry one id each.
 */
export function encodeSignalRelay(to: PeerId | null, from: PeerId | null, initiator: boolean, data: SignalData, route: readonly PeerId[] = []): Uint8Array {
  const payload: unknown[] = [to === null ? null : idToBytes(to), from === null ? null : idToBytes(from), initiator ? 1 : 0, data]
  if (route.length > 1) payload.push(route.map(idToBytes))
  return encodeFrame(LINK_PROTO, LinkMsg.SIGNAL, payload)
}

/**
 * Validates a SIGNAL payload that came over the link to `linkPeer`; null when
 * malformed. A nil `to` is us; a nil `from` is `linkPeer` (its own signaling).
 */
export function decodeSignalRelay(payload: unknown, local: PeerId, linkPeer: PeerId): SignalRelay | null {
  if (!Array.isArray(payload) || (payload.length !== 4 && payload.length !== 5)) return null
  const [to, from, initiator, data, rawRoute] = payload as [unknown, unknown, unknown, unknown, unknown]
  if ((to !== null && !isBytes(to)) || (from !== null && !isBytes(from)) || (initiator !== 0 && initiator !== 1)) return null
  if (!isSignalData(data)) return null
  const toId = to === null ? local : peerIdFromBytes(to)
  const fromId = from === null ? linkPeer : peerIdFromBytes(from)
  if (toId === null || fromId === null) return null
  let route: PeerId[] = []
  if (rawRoute !== undefined) {
    if (!Array.isArray(rawRoute) || rawRoute.length < 2 || rawRoute.length > MAX_ROUTE_HOPS) return null
    for (const hop of rawRoute) {
      const id = isBytes(hop) ? peerIdFromBytes(hop) : null
      if (id === null) return null
      route.push(id)
    }
    if (new Set(route).size !== route.length || route.includes(toId) || route.includes(fromId)) route = []
    if (route.length === 0) return null
  }
  return { to: toId, from: fromId, initiator: initiator === 1, data, route }
}

/** An introducer's word that it could not pass our signaling for `to`'s attempt `attempt` on. */
export interface NoRoute {
  readonly to: PeerId
  readonly attempt: number
}

export function encodeNoRoute(to: PeerId, attempt: number): Uint8Array {
  return encodeFrame(LINK_PROTO, LinkMsg.NO_ROUTE, [idToBytes(to), attempt])
}

/** Validates a NO_ROUTE payload; null when malformed. */
export function decodeNoRoute(payload: unknown): NoRoute | null {
  if (!Array.isArray(payload) || payload.length !== 2) return null
  const [to, attempt] = payload as [unknown, unknown]
  const id = isBytes(to) ? peerIdFromBytes(to) : null
  if (id === null || typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < -1) return null
  return { to: id, attempt }
}

export function isSignalData(v: unknown): v is SignalData {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/** What a peer does with a relayed signal that came over its link to `from`. */
export type RelayStep = { deliver: true; route: PeerId[] } | { deliver: false; next: PeerId } | 'bad'

/**
 * One step along a relay's route. Each hop accepts it only from the hop before
 * it (the first only from the origin itself), so no peer can inject signaling
 * under another's name into a route. For us, `route` is the way back to its origin.
 */
export function relayStep(relay: SignalRelay, localId: PeerId, from: PeerId): RelayStep {
  const route = relay.route
  if (relay.to === localId) {
    if (route.length > 0 && route[route.length - 1] !== from) return 'bad'
    return { deliver: true, route: route.length === 0 ? [from] : [...route].reverse() }
  }
  const i = route.length === 0 ? 0 : route.indexOf(localId)
  if (i < 0 || from !== (i === 0 ? relay.from : route[i - 1])) return 'bad'
  return { deliver: false, next: route[i + 1] ?? relay.to }
}
