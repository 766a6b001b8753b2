import type { PeerId } from '../core/id.js'
import type { RelayDirectory, ResolvedRelayInit } from '../link/relay.js'
import type { SimLinkPeer } from './world.js'
import type { SimNetwork } from './network.js'
import type { Simulator } from './simulator.js'

/** Move latency histogram: 0.25 ms buckets up to 4 s (the last bucket holds everything later). */
const BUCKET_MS = 0.25
const BUCKETS = 16_000

export class LatencyHistogram {
  readonly counts = new Uint32Array(BUCKETS)
  total = 0

  add(ms: number): void {
    this.counts[Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]!++
    this.total++
  }

  merge(other: { counts: ArrayLike<number>; total: number }): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!
    this.total += other.total
  }

  /** The p-quantile (0..1), at the upper edge of its bucket; null when empty. */
  quantile(p: number): number | null {
    if (this.total === 0) return null
    const want = Math.max(1, Math.ceil(p * this.total))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= want) return (i + 1) * BUCKET_MS
    }
    return BUCKETS * BUCKET_MS
  }
}

/** Positions a peer stood at, at each step, for the last few steps: matches a move a neighbour received to when it was made. */
export class PositionHistory {
  private readonly t = new Float64Array(64)
  private readonly x = new Float64Array(64)
  private readonly y = new Float64Array(64)
  private n = 0

  push(t: number, x: number, y: number): void {
    const i = this.n++ % 64
    this.t[i] = t
    this.x[i] = x
    this.y[i] = y
  }

  /** When the peer stood at (x, y) as a MOVE carries it (quantised to 1/100 unit), newest first; undefined when not in the window. */
  when(x: number, y: number): number | undefined {
    for (let k = 1; k <= Math.min(64, this.n); k++) {
      const i = (this.n - k) % 64
      if (Math.abs(this.x[i]! - x) <= 0.006 && Math.abs(this.y[i]! - y) <= 0.006) return this.t[i]
    }
    return undefined
  }
}

/** One relay peer's load over the measured window. */
export interface RelayLoad {
  readonly circuitsMax: number
  readonly circuitsMean: number
  readonly bytesPerSec: number
  readonly peakBytesPerSec: number
  /** Times its caps were exceeded (circuits over maxCircuits, a second with more bytes than maxBytesPerSec). */
  readonly overCap: number
}

/** Samples every relay peer's circuits through the measured window. */
export class RelayLoadMeter {
  private readonly circuitSum = new Map<PeerId, number>()
  private readonly bytesAtStart = new Map<PeerId, number>()
  private samples = 0

  start(peers: readonly SimLinkPeer[]): void {
    for (const p of peers) this.bytesAtStart.set(p.id, p.links.relays?.stats.relayedBytes ?? 0)
  }

  sample(peers: readonly SimLinkPeer[]): void {
    this.samples++
    for (const p of peers) {
      const now = p.links.relays?.stats.circuitsNow ?? 0
      if (now > 0) this.circuitSum.set(p.id, (this.circuitSum.get(p.id) ?? 0) + now)
    }
  }

  /** Peers that relayed a circuit during the run, with their load. */
  loads(peers: readonly SimLinkPeer[], seconds: number): RelayLoad[] {
    const out: RelayLoad[] = []
    for (const p of peers) {
      const r = p.links.relays
      if (r === undefined || r.stats.circuitsServed === 0) continue
      const cap: ResolvedRelayInit = r.init
      out.push({
        circuitsMax: r.stats.circuitsMax,
        circuitsMean: this.samples === 0 ? 0 : (this.circuitSum.get(p.id) ?? 0) / this.samples,
        bytesPerSec: (r.stats.relayedBytes - (this.bytesAtStart.get(p.id) ?? 0)) / seconds,
        peakBytesPerSec: r.stats.peakBytesPerSec,
        overCap: (r.stats.circuitsMax > cap.maxCircuits ? 1 : 0) + (r.stats.peakBytesPerSec > cap.maxBytesPerSec ? 1 : 0),
      })
    }
    return out
  }
}

/**
 * The DHT's relay records as the simulator models them (its VON scenarios do
 * not run Kademlia): volunteers announce; a lookup answers after a DHT
 * lookup's typical time with the live announced relays nearest the asker in
 * the latency plane, as a lookup followed by RTT probes of the providers would.
 */
export class SimRelayDirectory {
  private readonly announced = new Set<PeerId>()

  constructor(
    private readonly sim: Simulator,
    private readonly net: SimNetwork,
    private readonly alive: (id: PeerId) => boolean,
    private readonly lookupMs = 400,
    private readonly answers = 8,
  ) {}

  for(id: PeerId): RelayDirectory {
    return {
      announce: () => this.announced.add(id),
      find: (cb) =>
        this.sim.after(this.lookupMs, () => {
          const live = [...this.announced].filter((r) => r !== id && this.alive(r))
          live.sort((a, b) => this.net.oneWayMs(id, a) - this.net.oneWayMs(id, b) || (a < b ? -1 : 1))
          cb(live.slice(0, this.answers))
        }),
    }
  }
}
