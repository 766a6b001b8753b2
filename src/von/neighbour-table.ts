import type { PeerId } from '../core/id.js'
import { jitterOf } from './geometry.js'
import { NO_DIGEST, idPrefix, sortDigest, type NodeInfo, type State } from './messages.js'

/**
 * A known neighbour, with what the last housekeeping tick saw of it. It is a
 * NodeInfo itself: a notice that names it encodes the entry as it is now.
 */
export interface Neighbour extends NodeInfo {
  readonly id: PeerId
  /** Where we believe it is: its prediction at the last `advance` (or its report, if later). */
  x: number
  y: number
  /** Its velocity (units/s) and where it was at time `at`, by its latest MOVE or HELLO: the prediction's base. */
  vx: number
  vy: number
  bx: number
  by: number
  at: number
  readonly jx: number
  readonly jy: number
  /** Its id's 32-bit prefix (SYNC and ASK). */
  readonly prefix: number
  aoi: number
  seq: number
  /**
   * It spoke for itself (a MOVE or HELLO of its own). Until then it is a hint
   * another peer gave (NODES, ACCEPT): linked to and used by the overlay, but
   * not shown to the game nor passed on to others.
   */
  confirmed: boolean
  /** While a hint: the neighbour that named it (each may have only so many hints outstanding, see onNodes). */
  teller: PeerId | undefined
  /** Position at the last tick: "before" for relevance transitions (a neighbour without a digest). */
  ox: number
  oy: number
  /** Present at the last tick. */
  seen: boolean
  /** Its enclosing neighbours in our diagram at the last tick. */
  enclosing: readonly PeerId[]
  /** Its link was open at the last tick: others were told of it when it opened. */
  linkedBefore: boolean
  /** Moved (or arrived) since the last tick. */
  changed: boolean
  /** Tell it everything relevant at the next tick, not just what changed. */
  resync: boolean
  /** When it was first seen out of range and not enclosing; -1 while relevant. */
  farSince: number
  /** When we last told it about each other current neighbour in range of it (forgotten when out of range). */
  told: Map<PeerId, number>
  /** When we last told it about each other current neighbour that encloses it in our diagram, out of its range. */
  toldEnclosing: Map<PeerId, number>
  /**
   * What it holds, from its latest digest (see VonMsg.MOVE): the first
   * `knownCount` prefixes, sorted; NEVER before its first, CROWD while it is a
   * crowd and sends none.
   */
  known: Uint16Array
  knownCount: number
}

const EMPTY = new Uint16Array(0)

/** `knownCount` of a neighbour without a digest: none heard yet, or it said it keeps none (a crowd). */
export const DIGEST = { NEVER: -1, CROWD: -2 } as const

/**
 * The neighbours a VON peer knows, bounded, in insertion order (deterministic).
 * It is the Map itself rather than a wrapper around one: every message from a
 * neighbour looks it up, and a wrapper is one more object to reach each time.
 * Add through `add` (which keeps the bound), not `set`.
 */
export class NeighbourTable extends Map<PeerId, Neighbour> {
  /** Counts changes of the set of neighbours (the digest our moves carry follows it). */
  version = 0

  constructor(
    private readonly localId: PeerId,
    private readonly max: number,
  ) {
    super()
  }

  /**
   * Adds a neighbour, as `info` says it is at `now` (`teller`: the neighbour
   * that named it); undefined when it is this peer, already known, or the table is full.
   */
  add(info: NodeInfo, now: number, teller?: PeerId): Neighbour | undefined {
    if (info.id === this.localId || this.has(info.id) || this.size >= this.max) return undefined
    const n: Neighbour = {
      id: info.id,
      x: info.x,
      y: info.y,
      vx: info.vx ?? 0,
      vy: info.vy ?? 0,
      bx: info.x,
      by: info.y,
      at: now,
      ...jitterOf(info.id),
      prefix: idPrefix(info.id),
      aoi: info.aoi,
      seq: info.seq,
      confirmed: false,
      teller,
      ox: info.x,
      oy: info.y,
      seen: false,
      enclosing: [],
      linkedBefore: false,
      changed: true,
      resync: false,
      farSince: -1,
      told: new Map(),
      toldEnclosing: new Map(),
      known: EMPTY,
      knownCount: DIGEST.NEVER,
    }
    this.set(info.id, n)
    this.version++
    return n
  }

  override delete(id: PeerId): boolean {
    if (!super.delete(id)) return false
    this.version++
    return true
  }

  /**
   * Applies a state the neighbour sent `ageMs` ago (about half the link's
   * round trip), received at `now`; false (and no change) when it is older
   * than what we hold.
   */
  update(n: Neighbour, s: State, now: number, ageMs: number): boolean {
    if (s.seq < n.seq) return false
    n.bx = s.x + (s.vx * ageMs) / 1000
    n.by = s.y + (s.vy * ageMs) / 1000
    n.x = n.bx
    n.y = n.by
    n.vx = s.vx
    n.vy = s.vy
    n.at = now
    n.aoi = s.aoi
    n.seq = s.seq
    n.changed = true
    n.confirmed = true
    return true
  }

  /** Moves every neighbour to where its velocity has taken it by `now` (dead reckoning). */
  advance(now: number): void {
    for (const n of this.values()) {
      if (n.vx === 0 && n.vy === 0) continue
      const dt = (now - n.at) / 1000
      n.x = n.bx + n.vx * dt
      n.y = n.by + n.vy * dt
      n.changed = true
    }
  }

  /** Where `n` is predicted at `now`, without moving it (what a sampler reads). */
  static predict(n: Neighbour, now: number): { x: number; y: number } {
    const dt = (now - n.at) / 1000
    return { x: n.bx + n.vx * dt, y: n.by + n.vy * dt }
  }

  /** Keeps the digest a neighbour sent, sorted (into the same array while it fits); NO_DIGEST forgets it. */
  learn(n: Neighbour, digest: Uint8Array | typeof NO_DIGEST): void {
    if (digest === NO_DIGEST) {
      n.knownCount = DIGEST.CROWD
      return
    }
    const count = digest.length >>> 1
    if (n.known.length < count) n.known = new Uint16Array(Math.max(count, 2 * n.known.length, 16))
    n.knownCount = sortDigest(digest, n.known)
  }

  /** Records what this tick saw, as the "before" of the next one. */
  settle(n: Neighbour, enclosing: readonly PeerId[] | undefined, linked: boolean): void {
    n.linkedBefore = linked
    n.seen = true
    n.changed = false
    n.resync = false
    // The "before" of the transition test, which only a neighbour without a digest needs.
    if (enclosing === undefined) return
    n.ox = n.x
    n.oy = n.y
    n.enclosing = enclosing
  }
}
