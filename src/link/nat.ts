import type { PathKind } from './transport.js'

/**
 * How a peer's NAT (or lack of one) treats UDP, in the terms of RFC 4787:
 * - `open`: a public address, nothing in the way (an anchor on a server).
 * - `eim`: endpoint-independent mapping and filtering ("full cone"): once the
 *   peer sent anything out, anyone may send to its mapped address.
 * - `restricted`: endpoint-independent mapping, address- and port-dependent
 *   filtering ("port-restricted cone"; Linux MASQUERADE, most home routers):
 *   a hole opens only towards where the peer sent.
 * - `symmetric`: address- and port-dependent mapping (`--random-fully`, many
 *   mobile carriers): each destination sees another port, so the address STUN
 *   learnt is useless to anyone else.
 * - `unknown`: not measured (a browser with fewer than two STUN servers).
 */
export type NatClass = 'open' | 'eim' | 'restricted' | 'symmetric' | 'unknown'

export const NAT_CLASSES: readonly Exclude<NatClass, 'unknown'>[] = ['open', 'eim', 'restricted', 'symmetric']

/** What a peer knows of its own reachability, and says to peers it dials (see LinkManager). */
export interface Reach {
  readonly nat: NatClass
  /** It has a TURN server: any direct attempt of its can fall back to TURN. */
  readonly turn: boolean
}

export const UNKNOWN_REACH: Reach = Object.freeze({ nat: 'unknown', turn: false })

/** The ICE servers both ends were given. */
export interface IceServersGiven {
  readonly stun: boolean
  readonly turn: boolean
}

/**
 * ICE's outcome for a pair, from the NAT classes of both ends (neither unknown):
 * the kind of path the checks select, or 'fail' when no candidate pair works.
 * One table for the simulator's links and the link layer's "hopeless" test,
 * so both follow the same rules:
 * - two public hosts talk host to host;
 * - a public host reaches anyone: the NATed side's checks open its own hole
 *   (the public side learns a prflx candidate; srflx with STUN);
 * - two NATed peers need STUN, and then meet unless a symmetric side sends
 *   from a port the other side's filter never opened: symmetric with
 *   symmetric or restricted fails; symmetric with a full cone works (prflx);
 * - TURN rescues every pair that fails (kind relay).
 */
export function iceOutcome(a: Exclude<NatClass, 'unknown'>, b: Exclude<NatClass, 'unknown'>, ice: IceServersGiven): PathKind | 'fail' {
  if (a === 'open' && b === 'open') return 'host'
  if (a === 'open' || b === 'open') return ice.stun ? 'srflx' : 'prflx'
  let direct: PathKind | 'fail' = 'fail'
  if (ice.stun) {
    const sym = (a === 'symmetric' ? 1 : 0) + (b === 'symmetric' ? 1 : 0)
    if (sym === 0) direct = 'srflx'
    else if (sym === 1 && (a === 'eim' || b === 'eim')) direct = 'prflx'
  }
  if (direct !== 'fail') return direct
  return ice.turn ? 'relay' : 'fail'
}

/**
 * Whether a direct attempt between two peers that told each other their
 * reach cannot work, so a relayed link should start at once. Only definite
 * facts count: an unknown class or a TURN server on either side means "try".
 * STUN is assumed (a peer without it is told so by its own failures).
 */
export function directHopeless(a: Reach, b: Reach): boolean {
  if (a.turn || b.turn || a.nat === 'unknown' || b.nat === 'unknown') return false
  return iceOutcome(a.nat, b.nat, { stun: true, turn: false }) === 'fail'
}

/** Reads a peer's reach from untrusted signaling data; null when malformed. */
export function parseReach(v: unknown): Reach | null {
  if (!Array.isArray(v) || v.length !== 2) return null
  const [nat, turn] = v as unknown[]
  if (typeof nat !== 'string' || !(NAT_CLASSES as readonly string[]).includes(nat) && nat !== 'unknown') return null
  if (turn !== 0 && turn !== 1) return null
  return { nat: nat as NatClass, turn: turn === 1 }
}

export function encodeReach(r: Reach): [NatClass, 0 | 1] {
  return [r.nat, r.turn ? 1 : 0]
}
