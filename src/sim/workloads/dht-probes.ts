import type { DhtLookupResult } from '../../kademlia/kademlia.js'
import type { MetricValue, Series } from '../scenario.js'
import { mean, percentile } from '../stats.js'
import type { SeededRng } from '../rng.js'
import type { DhtNetwork, DhtPeer } from './dht-network.js'

/** One measured lookup, judged against the oracle at the time it was issued. */
export interface LookupSample {
  readonly at: number
  readonly allClosest: boolean
  /** Fraction of the true k closest the lookup returned. */
  readonly recall: number
  readonly rounds: number
  readonly latencyMs: number
  readonly queried: number
  readonly failed: number
}

/**
 * Issues lookups for random targets from random joined peers and judges each
 * against the true k closest among every live id when it was issued.
 */
export class LookupProbe {
  readonly samples: LookupSample[] = []
  started = 0
  private readonly k: number

  constructor(
    private readonly net: DhtNetwork,
    private readonly rng: SeededRng,
    k = 20,
  ) {
    this.k = k
  }

  get pending(): number {
    return this.started - this.samples.length
  }

  /** Starts one lookup now; false when no peer has joined yet. */
  issue(): boolean {
    const from = this.net.randomJoined(this.rng)
    if (from === undefined) return false
    const target = this.rng.bytes(32)
    const truth = this.net.trueClosest(target, this.k, from.id)
    const at = this.net.sim.now
    this.started++
    from.dht.lookup(target, (r: DhtLookupResult) => {
      const got = new Set(r.closest)
      const hits = truth.filter((t) => got.has(t)).length
      this.samples.push({
        at,
        allClosest: hits === truth.length,
        recall: truth.length === 0 ? 1 : hits / truth.length,
        rounds: r.rounds,
        latencyMs: r.durationMs,
        queried: r.queried,
        failed: r.failed,
      })
    })
    return true
  }

  metrics(): Record<string, MetricValue> {
    const s = this.samples
    const sorted = (f: (x: LookupSample) => number): number[] => s.map(f).sort((a, b) => a - b)
    const rounds = sorted((x) => x.rounds)
    const latency = sorted((x) => x.latencyMs)
    return {
      lookups: s.length,
      lookupAllClosestShare: s.length === 0 ? null : s.filter((x) => x.allClosest).length / s.length,
      lookupClosestRecallMean: s.length === 0 ? null : mean(s.map((x) => x.recall)),
      lookupRoundsMedian: percentile(rounds, 0.5),
      lookupRoundsP90: percentile(rounds, 0.9),
      lookupRoundsMax: rounds.length === 0 ? null : rounds[rounds.length - 1]!,
      lookupLatencyMsMedian: percentile(latency, 0.5),
      lookupLatencyMsP90: percentile(latency, 0.9),
      lookupLatencyMsMean: mean(latency),
      lookupMessagesMean: mean(s.map((x) => x.queried)),
      lookupFailedQueriesMean: mean(s.map((x) => x.failed)),
    }
  }

  series(binMs: number): Series[] {
    const bins = new Map<number, LookupSample[]>()
    for (const x of this.samples) {
      const b = Math.floor(x.at / binMs)
      let list = bins.get(b)
      if (list === undefined) bins.set(b, (list = []))
      list.push(x)
    }
    const keys = [...bins.keys()].sort((a, b) => a - b)
    const point = (f: (xs: LookupSample[]) => number): [number, number][] => keys.map((b) => [((b + 0.5) * binMs) / 1000, f(bins.get(b)!)])
    return [
      { name: 'lookups returning all 20 closest', unit: 'share', points: point((xs) => xs.filter((x) => x.allClosest).length / xs.length) },
      { name: 'lookup latency, median', unit: 'ms', points: point((xs) => percentile(xs.map((x) => x.latencyMs).sort((a, b) => a - b), 0.5)) },
      { name: 'lookup rounds, mean', unit: 'rounds', points: point((xs) => mean(xs.map((x) => x.rounds))) },
    ]
  }
}

/** DHT traffic counters summed over peers. */
export interface DhtBytes {
  total: number
  maintenance: number
  app: number
}

export function dhtBytes(peers: Iterable<DhtPeer>): DhtBytes {
  const out: DhtBytes = { total: 0, maintenance: 0, app: 0 }
  for (const p of peers) {
    const s = p.dht.rpc.stats
    out.total += s.bytesSent
    out.maintenance += s.maintenanceBytes
    out.app += s.appBytes
  }
  return out
}

/** Mean one-way latency between random pairs of peers (ms). */
export function sampledOneWayMs(net: DhtNetwork, rng: SeededRng, pairs = 2000): number {
  const n = net.peers.length
  if (n < 2) return 0
  let sum = 0
  for (let i = 0; i < pairs; i++) {
    const a = net.peers[rng.int(n)]!
    let b = net.peers[rng.int(n)]!
    if (b === a) b = net.peers[(a.index + 1) % n]!
    sum += net.world.net.oneWayMs(a.id, b.id)
  }
  return sum / pairs
}

/** Fraction of each sampled peer's true k closest that sit in its routing table. */
export function siblingCoverage(net: DhtNetwork, rng: SeededRng, samples = 300, k = 20): number {
  let have = 0
  let all = 0
  for (let i = 0; i < samples && net.liveCount > 0; i++) {
    const p = net.liveAt(rng.int(net.liveCount))
    for (const t of net.trueClosest(p.bytes, k, p.id)) {
      all++
      if (p.dht.table.has(t)) have++
    }
  }
  return all === 0 ? 1 : have / all
}
