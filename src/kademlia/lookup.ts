import type { Env } from '../core/env.js'
import { ID_BYTES, type PeerId } from '../core/id.js'
import { equalAt, hexAt, insertionIndex } from './distance.js'

export interface LookupOptions {
  readonly target: Uint8Array
  /** The lookup ends when the k closest peers known have answered or failed. */
  readonly k: number
  /** Queries in flight. */
  readonly alpha: number
  /** A query outstanding this long stops counting against alpha, so one slow peer does not stall the lookup. */
  readonly slowMs: number
  /** Candidates remembered; farther ones are dropped. */
  readonly maxCandidates: number
  /** Our own id: never a candidate. */
  readonly self: Uint8Array
  /**
   * Candidates among the k closest not yet asked (alpha being busy) whose links
   * are set up ahead, so that asking them later costs one round trip instead of
   * an introduction, ICE and DTLS. 0 disables.
   */
  readonly connectAhead: number
  /**
   * A peer that referred this many candidates that failed or went slow, and
   * more of those than ones that answered, is distrusted: the candidates it alone named that were
   * not asked yet are dropped (issue 23, finding 7: fabricated contacts). 0
   * disables. @default 2
   */
  readonly distrustAfter?: number
}

export interface LookupSeed {
  readonly id: PeerId
  readonly bytes: Uint8Array
}

/**
 * Asks `peer` (introduced by `via` when we have no link) and reports the ids it
 * returned (concatenated 32-byte ids), or null on failure.
 */
export type LookupQuery = (peer: PeerId, via: PeerId | undefined, done: (contacts: Uint8Array | null) => void) => void

/** Starts setting up a link to `peer` (introduced by `via`) without asking it anything yet. */
export type LookupPrepare = (peer: PeerId, via: PeerId | undefined) => void

export interface LookupResult {
  /** Up to k peers that answered, closest first. */
  readonly closest: PeerId[]
  /** Depth of the deepest query: seeds from our own table are round 1, peers they returned round 2, ... */
  readonly rounds: number
  readonly queried: number
  readonly failed: number
  /** Candidates dropped unasked because the peer that named them was distrusted (see LookupOptions.distrustAfter). */
  readonly discounted: number
  readonly durationMs: number
  /** Ended by `stop()` (a value was found) rather than by convergence. */
  readonly stoppedEarly: boolean
}

/** See LookupOptions.distrustAfter. */
const DISTRUST_AFTER = 2

const NEW = 0
const WAITING = 1
const SLOW = 2
const DONE = 3
const FAILED = 4

interface Candidate {
  readonly id: PeerId
  readonly bytes: Uint8Array
  readonly via: PeerId | undefined
  readonly depth: number
  state: number
  prepared: boolean
}

/**
 * One iterative Kademlia lookup: alpha queries in flight to the closest
 * candidates not yet asked; ends when the k closest known have all answered
 * or failed. A failed peer is not asked again in the same lookup.
 */
export class Lookup {
  /** Every candidate, closest first. Ids are unique: a duplicate has the same distance, so it sits at its own insertion index. */
  private readonly order: Candidate[] = []
  private readonly startedAt: number
  private inflight = 0
  private queried = 0
  private failed = 0
  private discounted = 0
  private finished = false
  /** Per referring peer: its candidates that answered, and those that failed or went slow. */
  private readonly referrers = new Map<PeerId, { answered: number; strikes: number }>()

  constructor(
    private readonly env: Pick<Env, 'clock' | 'timers'>,
    private readonly opts: LookupOptions,
    private readonly query: LookupQuery,
    private readonly done: (result: LookupResult) => void,
    private readonly prepare: LookupPrepare = () => {},
  ) {
    this.startedAt = env.clock.now()
  }

  start(seeds: readonly LookupSeed[]): void {
    for (const s of seeds) this.add(s.bytes, 0, undefined, 1)
    this.pump()
  }

  /** Ends the lookup now (the caller found what it looked for). */
  stop(): void {
    this.finish(true)
  }

  get isFinished(): boolean {
    return this.finished
  }

  private add(buf: Uint8Array, off: number, via: PeerId | undefined, depth: number): void {
    const { target, maxCandidates } = this.opts
    const at = insertionIndex(target, this.order, buf, off)
    if (at >= maxCandidates) return
    if (at < this.order.length && equalAt(this.order[at]!.bytes, buf, off)) return
    if (equalAt(this.opts.self, buf, off)) return
    const bytes = buf.slice(off, off + ID_BYTES)
    this.order.splice(at, 0, { id: hexAt(buf, off) as PeerId, bytes, via, depth, state: NEW, prepared: false })
    if (this.order.length > maxCandidates && this.order[this.order.length - 1]!.state === NEW) this.order.pop()
  }

  private pump(): void {
    if (this.finished) return
    let open = false
    let seen = 0
    let ahead = this.opts.connectAhead
    for (const c of this.order) {
      if (c.state === FAILED) continue
      if (c.state === NEW && this.inflight < this.opts.alpha) this.ask(c)
      else if (c.state === NEW && ahead > 0) {
        ahead--
        if (!c.prepared) {
          c.prepared = true
          this.prepare(c.id, c.via)
        }
      }
      if (c.state !== DONE) open = true
      if (++seen >= this.opts.k) break
    }
    if (!open) this.finish(false)
  }

  private ask(c: Candidate): void {
    c.state = WAITING
    this.inflight++
    this.queried++
    this.env.timers.setTimeout(() => {
      if (c.state !== WAITING || this.finished) return
      c.state = SLOW
      this.inflight--
      this.strike(c)
      this.pump()
    }, this.opts.slowMs)
    this.query(c.id, c.via, (contacts) => this.onReply(c, contacts))
  }

  private onReply(c: Candidate, contacts: Uint8Array | null): void {
    if (c.state === WAITING) this.inflight--
    if (c.state !== WAITING && c.state !== SLOW) return
    if (contacts === null) {
      if (c.state === WAITING) this.strike(c)
      c.state = FAILED
      this.failed++
    } else {
      if (c.via !== undefined) this.referrer(c.via).answered++
      c.state = DONE
      if (!this.finished) {
        for (let off = 0; off + ID_BYTES <= contacts.length; off += ID_BYTES) this.add(contacts, off, c.id, c.depth + 1)
      }
    }
    this.pump()
  }

  private referrer(id: PeerId): { answered: number; strikes: number } {
    let r = this.referrers.get(id)
    if (r === undefined) this.referrers.set(id, (r = { answered: 0, strikes: 0 }))
    return r
  }

  /** `c` failed or went slow: a strike against the peer that named it; past the limit, its other unasked candidates go. */
  private strike(c: Candidate): void {
    const limit = this.opts.distrustAfter ?? DISTRUST_AFTER
    if (c.via === undefined || limit <= 0) return
    const r = this.referrer(c.via)
    r.strikes++
    if (r.strikes < limit || r.strikes <= r.answered) return
    for (const d of this.order) {
      if (d.state !== NEW || d.via !== c.via) continue
      d.state = FAILED
      this.discounted++
    }
  }

  private finish(early: boolean): void {
    if (this.finished) return
    this.finished = true
    const closest: PeerId[] = []
    let rounds = 0
    for (const c of this.order) {
      if (c.state === DONE && closest.length < this.opts.k) closest.push(c.id)
      if ((c.state === DONE || c.state === FAILED) && c.depth > rounds) rounds = c.depth
    }
    const result: LookupResult = {
      closest,
      rounds,
      queried: this.queried,
      failed: this.failed,
      discounted: this.discounted,
      durationMs: this.env.clock.now() - this.startedAt,
      stoppedEarly: early,
    }
    this.env.timers.setTimeout(() => this.done(result), 0)
  }
}
