import { toHex } from '../../core/bytes.js'
import type { MetricValue, TraceSink } from '../scenario.js'
import type { DhtNetwork } from './dht-network.js'

/** Who read a player's state while the player was offline. */
export type ReadKind =
  /** The owner back in a scheduled (Weibull) session, in a new browser. */
  | 'return'
  /** An extra return: a new browser with the owner's key joins, reads, and goes. */
  | 'probe'
  /** A random online peer. */
  | 'other'
  /** A random online peer, just after the owner began to leave (its last write in flight). */
  | 'leaving'

export interface ReadSample {
  readonly kind: ReadKind
  readonly at: number
  /** Got the newest state the owner ever wrote (acknowledged or not). */
  readonly newest: boolean
  /** Got at least the newest write some holder had acknowledged when the read started. */
  readonly newestAcked: boolean
  readonly found: boolean
  /** The owner's newest state came from a session in the run (not the seeded prior state). */
  readonly leftInRun: boolean
  readonly latencyMs: number
}

/** What the scenario knows about one player's writes, for judging reads and tracing misses. */
export interface WriterView {
  readonly index: number
  /** Highest seq written (issued). */
  readonly newest: number
  /** Highest seq a write of which at least one peer acknowledged. */
  readonly acked: number
  readonly seeded: boolean
  /** Virtual time of the last leave and of the leaver's exit. */
  readonly endAt: number
  readonly goneAt: number
  /** The last few writes: seq, when, at leave or not, holders that acknowledged (undefined while in flight). */
  readonly writes: readonly { seq: number; at: number; leave: boolean; stored: number | undefined }[]
}

/**
 * The reads of offline players' state, judged against what the owner wrote;
 * with a trace sink, every miss is written with the global truth (which live
 * peers hold which seq, how many of them among the true 20 closest).
 */
export class ChurnReads {
  readonly samples: ReadSample[] = []

  constructor(
    private readonly net: DhtNetwork,
    private readonly trace: TraceSink | undefined,
  ) {}

  /** Starts a read of `p`'s state: returns the function to call with the seq it got (0: nothing). */
  begin(kind: ReadKind, p: WriterView, key: Uint8Array): (seq: number) => void {
    const at = this.net.sim.now
    const wrote = p.newest
    const acked = p.acked
    const leftInRun = !p.seeded
    return (seq) => {
      const s: ReadSample = { kind, at, newest: seq >= wrote, newestAcked: seq >= acked, found: seq > 0, leftInRun, latencyMs: this.net.sim.now - at }
      this.samples.push(s)
      if (!s.newest && this.trace !== undefined) this.traceMiss(s, p, seq, wrote, acked, key)
    }
  }

  metrics(): Record<string, MetricValue> {
    const pick = (kinds: ReadKind[], leftInRun?: boolean): ReadSample[] =>
      this.samples.filter((s) => kinds.includes(s.kind) && (leftInRun === undefined || s.leftInRun === leftInRun))
    const share = (xs: ReadSample[], f: (s: ReadSample) => boolean): number | null => (xs.length === 0 ? null : xs.filter(f).length / xs.length)
    const owner = pick(['return', 'probe'])
    const returns = pick(['return'])
    const probes = pick(['probe'])
    const ownerLeft = pick(['return', 'probe'], true)
    const others = pick(['other'])
    const othersLeft = pick(['other'], true)
    const leaving = pick(['leaving'])
    return {
      getNewestShare: share(owner, (s) => s.newest),
      getNewestAckedShare: share(owner, (s) => s.newestAcked),
      ownerReads: owner.length,
      ownerReadsStale: owner.filter((s) => s.found && !s.newest).length,
      ownerReadsMissing: owner.filter((s) => !s.found).length,
      ownerReadsLeftInRun: ownerLeft.length,
      ownerReadLeftInRunNewestShare: share(ownerLeft, (s) => s.newest),
      returningReads: returns.length,
      returningNewestShare: share(returns, (s) => s.newest),
      returnProbeReads: probes.length,
      returnProbeNewestShare: share(probes, (s) => s.newest),
      offlineReads: others.length,
      offlineReadNewestShare: share(others, (s) => s.newest),
      offlineReadNewestAckedShare: share(others, (s) => s.newestAcked),
      offlineReadsLeftInRun: othersLeft.length,
      offlineReadLeftInRunNewestShare: share(othersLeft, (s) => s.newest),
      leavingReads: leaving.length,
      leavingReadNewestShare: share(leaving, (s) => s.newest),
      leavingReadNewestAckedShare: share(leaving, (s) => s.newestAcked),
    }
  }

  private traceMiss(s: ReadSample, p: WriterView, got: number, wrote: number, acked: number, key: Uint8Array): void {
    const net = this.net
    const keyHex = toHex(key)
    const closest = new Set(net.trueClosest(key, 20))
    const holders: Record<number, number> = {}
    const closeHolders: Record<number, number> = {}
    for (let i = 0; i < net.liveCount; i++) {
      const q = net.liveAt(i)
      const r = q.dht.store.get(keyHex, net.sim.now)?.record
      if (r === undefined || r.kind !== 1) continue
      holders[r.seq] = (holders[r.seq] ?? 0) + 1
      if (closest.has(q.id)) closeHolders[r.seq] = (closeHolders[r.seq] ?? 0) + 1
    }
    this.trace?.write({ miss: s.kind, player: p.index, at: s.at, now: net.sim.now, got, wrote, acked, seeded: p.seeded, endAt: p.endAt, goneAt: p.goneAt, holders, closeHolders, writes: p.writes })
  }
}
