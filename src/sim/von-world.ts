import type { LinkManagerInit } from '../link/link-manager.js'
import type { VonInit, VonPeer } from '../von/von-peer.js'
import { mergeEventCosts } from './event-costs.js'
import type { OverlayPicture, ScenarioResult, Series, TraceSink } from './scenario.js'
import { mean, percentile } from './stats.js'
import { isConnected } from './von-metrics.js'
import { addTraffic, trafficRows, type TrafficTotals } from './traffic.js'
import type { NatOptions } from './nat-model.js'
import { LatencyHistogram } from './relay-metrics.js'
import type { MobilityName } from './mobility.js'
import type { Tracks } from './replay.js'
import { VonShard, vonSchedule, type VonShardResult } from './von-shard.js'
import type { AdversaryInit } from './adversaries.js'
import { adversaryMetrics, defenceMetrics } from './adversary-metrics.js'

export interface VonRunInit {
  seed: string
  peers: number
  width: number
  height: number
  aoi: number
  /** @default speed x 3 hops x 2 (VAST's rule), at least 10 */
  buffer?: number
  stepsPerSec: number
  /** Units per step. */
  speed: number
  /**
   * How peers move: a model (mobility.ts), or the tracks of a file (replay.ts):
   * then peer i follows tracks[i], enters when it starts and leaves when it ends.
   */
  mobility: MobilityName | { replay: Tracks }
  /** Called after an unsplit run with the positions its mobility produced (--write-tracks). */
  onTracks?: (tracks: Tracks) => void
  /** Peers join evenly over this many seconds. */
  joinSeconds: number
  /** Time after the last join before measurement starts. */
  settleSeconds: number
  /** Measured duration. */
  seconds: number
  /** @default 200 */
  sampleMs?: number
  /** Fail `fraction` of the peers at once, `atSeconds` into the measured window. */
  failure?: { atSeconds: number; fraction: number }
  /** Instead: fail `fraction` of the relay peers (relaying a circuit or holding a reservation then) at once (unsplit runs only). */
  relayFailure?: { atSeconds: number; fraction: number }
  /** NAT classes and ICE servers (nat-model.ts); default: every peer public, as before. */
  nat?: NatOptions
  /** Relaying through peers. @default true */
  relaying?: boolean
  /** Join tickets from the bootstrap node (von/join-tickets.ts): an acceptor tells a joiner of the nodes around a place only if its ticket reaches there. @default true */
  tickets?: boolean
  von?: VonInit
  /**
   * What the bootstrap node's host cache hands a joiner: three live peers nearest
   * its entry point by the positions peers last reported (every 10 s), so its
   * query walks a few hops; or three at random (a query walks O(sqrt N) hops).
   * @default 'nearest'
   */
  hostCache?: 'nearest' | 'random'
  /** Hostile peers and what they do (adversaries.ts); the metrics then count honest peers only. */
  adversaries?: AdversaryInit
  /** LinkManager options of every peer. */
  link?: LinkManagerInit
  /** Mean one-way latency is about 20 ms of access plus the plane's mean distance. @default 60 */
  latencyPlaneMs?: number
  /** Uplink of every peer (bytes/s). @default 250000 (2 Mbit/s) */
  upBytesPerSec?: number
  trace?: TraceSink
  progress?: (fraction: number) => void
  /** Measure each event of the measured window by kind with this wall clock (ms): the result's eventCosts. */
  eventClock?: () => number
  /** Called at each sample with every joined live peer (of its own shard, in a split run; debugging and tests). */
  onSample?: (now: number, peers: readonly { index: number; x: number; y: number; von: VonPeer }[]) => void
}

/**
 * Runs a VON world in the simulator: peers join through the real protocol with a
 * random live peer as gateway, move by a mobility model every step, and are
 * measured against the global truth (topology consistency, drift, bandwidth,
 * links, join latency, recovery after a mass failure, connectivity).
 */
export function runVon(init: VonRunInit): ScenarioResult {
  return mergeVon(init, [new VonShard(init).run()])
}

/**
 * The same world split into `shards` run in turn on this thread, each with its
 * own event queue, on the window schedule of `shardWindows` (threads run the
 * same one). Deterministic, but not the same event order as unsplit (records
 * from other shards queue after local events of the same time). Tests use it;
 * `npm run sim -- --workers N` runs shards on threads.
 */
export function runVonSharded(init: VonRunInit, shards: number): ScenarioResult {
  if (init.trace !== undefined) throw new Error('--trace needs an unsplit run (no --workers)')
  const parts = Array.from({ length: shards }, (_, i) => new VonShard(init, i, shards))
  // sent[p][q]: the buffers p made for q, one per window, oldest first.
  const sent = parts.map(() => parts.map((): ArrayBuffer[] => []))
  const applyOldest = (q: VonShard): void => {
    for (const p of parts) if (p !== q) q.apply(sent[p.shard]![q.shard]!.shift()!)
  }
  const { windows, pendingAtEnd } = shardWindows(parts[0]!.endMs)
  for (const w of windows) {
    if (w.applyFirst) for (const q of parts) applyOldest(q)
    for (const p of parts) p.runBefore(w.end, w.horizon)
    for (const p of parts) for (const q of parts) if (q !== p) sent[p.shard]![q.shard]!.push(p.outbox!.take(q.shard))
  }
  for (let i = 0; i < pendingAtEnd; i++) for (const q of parts) applyOldest(q)
  for (const p of parts) p.runToEnd()
  return mergeVon(init, parts.map((p) => p.result()))
}

/**
 * The smallest one-way latency between two peers (two 5 ms access links): a
 * record made at time t takes effect at t + 10 ms or later.
 */
export const SHARD_LOOKAHEAD_MS = 10
/**
 * Windows per lookahead. A shard applies the records of window k (made in
 * [kW, (k+1)W), due at kW + 10 ms or later) before it runs window k + SHARD_LAG,
 * so it may run up to SHARD_LAG - 1 windows ahead of a shard that is still
 * busy: a garbage collection pause in one worker no longer stops the other at
 * the next window end.
 */
const SHARD_LAG = 10
const SHARD_WINDOW_MS = SHARD_LOOKAHEAD_MS / SHARD_LAG

export interface ShardWindow {
  /** Run the events before this time. */
  readonly end: number
  /** Records made in this window take effect at this time or later. */
  readonly horizon: number
  /** Apply the oldest window of records from every other shard first (those of SHARD_LAG windows back). */
  readonly applyFirst: boolean
}

/**
 * The window loop of a split run ending at `endMs`, and how many windows of
 * records are still to apply after it (before the events at exactly `endMs`).
 */
export function shardWindows(endMs: number): { windows: ShardWindow[]; pendingAtEnd: number } {
  const windows: ShardWindow[] = []
  for (let k = 0; k * SHARD_WINDOW_MS < endMs; k++) {
    const start = k * SHARD_WINDOW_MS
    windows.push({ end: Math.min(start + SHARD_WINDOW_MS, endMs), horizon: start + SHARD_LOOKAHEAD_MS, applyFirst: k >= SHARD_LAG })
  }
  return { windows, pendingAtEnd: Math.min(SHARD_LAG, windows.length) }
}

/** Metrics, series and overlay picture of a run, from what each shard measured. */
export function mergeVon(init: VonRunInit, parts: readonly VonShardResult[]): ScenarioResult {
  const { sampleMs, measureStart, endMs, failAt, buffer } = vonSchedule(init)
  const tc: [number, number][] = []
  const driftSeries: [number, number][] = []
  const linkSeries: [number, number][] = []
  const bwSeries: [number, number][] = []
  let hits = 0
  let truth = 0
  let driftSum = 0
  let driftMax = 0
  let linkSum = 0
  let linkSamples = 0
  let linkMax = 0
  let lastBytes = 0
  let recoveryMs: number | null = null
  let recovery100Ms: number | null = null
  /** First sample back at 99 % after one below it. */
  let recoveryFirstMs: number | null = null
  let dipped = false
  /** Back at 99 % and staying, on the mean of the last second's samples (one sample's noise aside). */
  let recoveryMeanMs: number | null = null
  const lastSecond: number[] = []
  let minTcAfterFailure = 1
  let shownHits = 0
  const victim = { hits: 0, shown: 0, truth: 0, minShare: 1 }
  const rows = parts[0]!.rows.length
  for (let r = 0; r < rows; r++) {
    const now = parts[0]!.rows[r]!.t
    let s = { hits: 0, truth: 0, driftSum: 0, driftMax: 0, links: 0, linkMax: 0, present: 0, bytesSent: 0, shownHits: 0, victimHits: 0, victimShown: 0, victimTruth: 0 }
    for (const p of parts) {
      const row = p.rows[r]!
      if (row.t !== now) throw new Error('invariant: shards sampled at different times')
      s = {
        hits: s.hits + row.hits,
        truth: s.truth + row.truth,
        driftSum: s.driftSum + row.driftSum,
        driftMax: Math.max(s.driftMax, row.driftMax),
        links: s.links + row.links,
        linkMax: Math.max(s.linkMax, row.linkMax),
        present: s.present + row.present,
        bytesSent: s.bytesSent + row.bytesSent,
        shownHits: s.shownHits + row.shownHits,
        victimHits: s.victimHits + row.victimHits,
        victimShown: s.victimShown + row.victimShown,
        victimTruth: s.victimTruth + row.victimTruth,
      }
    }
    const value = s.truth === 0 ? 1 : s.hits / s.truth
    tc.push([now / 1000, value])
    driftSeries.push([now / 1000, s.hits === 0 ? 0 : s.driftSum / s.hits])
    if (now >= measureStart) linkMax = Math.max(linkMax, s.linkMax)
    linkSeries.push([now / 1000, s.present === 0 ? 0 : s.links / s.present])
    bwSeries.push([now / 1000, s.present === 0 ? 0 : (s.bytesSent - lastBytes) / s.present / (sampleMs / 1000)])
    lastBytes = s.bytesSent
    if (now >= measureStart && now <= endMs) {
      hits += s.hits
      truth += s.truth
      shownHits += s.shownHits
      victim.hits += s.victimHits
      victim.shown += s.victimShown
      victim.truth += s.victimTruth
      if (s.victimTruth > 0) victim.minShare = Math.min(victim.minShare, s.victimHits / s.victimTruth)
      driftSum += s.driftSum
      driftMax = Math.max(driftMax, s.driftMax)
      linkSum += s.links
      linkSamples += s.present
      if (failAt !== undefined && now > failAt) {
        minTcAfterFailure = Math.min(minTcAfterFailure, value)
        if (recoveryMs === null && value >= 0.99) recoveryMs = now - failAt
        if (value < 0.99) dipped = true
        else if (dipped && recoveryFirstMs === null) recoveryFirstMs = now - failAt
        lastSecond.push(value)
        if (lastSecond.length > Math.max(1, Math.round(1000 / sampleMs))) lastSecond.shift()
        const mean = lastSecond.reduce((a, b) => a + b, 0) / lastSecond.length
        if (mean < 0.99) recoveryMeanMs = null
        else if (recoveryMeanMs === null) recoveryMeanMs = now - failAt
        if (recovery100Ms === null && value >= 1) recovery100Ms = now - failAt
        if (value < 0.99) recoveryMs = null
        if (value < 1) recovery100Ms = null
      }
    }
  }
  const all = <T>(pick: (p: VonShardResult) => readonly T[]): T[] => parts.flatMap(pick)
  const sum = (pick: (p: VonShardResult) => number): number => parts.reduce((a, p) => a + pick(p), 0)
  const sent = all((p) => p.sent)
  const received = all((p) => p.received)
  const joinLatencies = all((p) => p.joinLatencies).sort((a, b) => a - b)
  const alive = all((p) => p.alive).sort((a, b) => a.index - b.index)
  const edges = new Map(alive.map((a) => [a.index, a.neighbours]))
  const peers = sum((p) => p.peers)
  const dialled = sum((p) => p.dialled)
  const hist = (pick: (p: VonShardResult) => LatencyHistogram): LatencyHistogram => {
    const h = new LatencyHistogram()
    for (const p of parts) h.merge(pick(p))
    return h
  }
  const direct = hist((p) => p.latencyDirect)
  const relayed = hist((p) => p.latencyRelayed)
  const hop = hist((p) => p.relayHop)
  const leg = hist((p) => p.relayLeg)
  const loads = all((p) => p.relayLoads)
  const paths: Record<string, number> = {}
  for (const p of parts) for (const [k, v] of Object.entries(p.pathsAtEnd)) paths[k] = (paths[k] ?? 0) + v
  const nats: Record<string, number> = {}
  for (const p of parts) for (const [k, v] of Object.entries(p.natCounts)) nats[k] = (nats[k] ?? 0) + v
  const openLinks = Object.values(paths).reduce((a, b) => a + b, 0)
  const rerouted = sum((p) => p.reroute.moved)
  const metrics = {
    topologyConsistency: truth === 0 ? 1 : hits / truth,
    /** Counting only neighbours the game is shown (a hint, a node only others named, is not). */
    topologyConsistencyShown: truth === 0 ? 1 : shownHits / truth,
    driftMean: hits === 0 ? 0 : driftSum / hits,
    driftMax,
    sentBytesPerPeerPerSecMean: mean(sent),
    sentBytesPerPeerPerSecMax: sent.length === 0 ? 0 : Math.max(...sent),
    datagramsPerPeerPerSecMean: mean(all((p) => p.datagrams)),
    wireBytesPerPeerPerSecMean: mean(all((p) => p.wire)),
    receivedBytesPerPeerPerSecMean: mean(received),
    receivedBytesPerPeerPerSecMax: received.length === 0 ? 0 : Math.max(...received),
    linksPerPeerMean: linkSamples === 0 ? 0 : linkSum / linkSamples,
    linksPerPeerMax: linkMax,
    neighboursPerPeerMean: mean(alive.map((a) => a.tableSize)),
    aoiNeighboursTrueMean: linkSamples === 0 ? 0 : truth / linkSamples,
    joinLatencyMsMedian: percentile(joinLatencies, 0.5),
    joinLatencyMsP95: percentile(joinLatencies, 0.95),
    joinedPeers: sum((p) => p.joinedPeers),
    recoveryMs: failAt === undefined ? null : recoveryMs,
    recoveryTo100Ms: failAt === undefined ? null : recovery100Ms,
    /** The first sample back at 99 % after the failure's dip. */
    recoveryFirstMs: failAt === undefined ? null : recoveryFirstMs ?? (dipped ? null : 0),
    /** Back at 99 % and staying, on the mean of the last second's samples. */
    recoveryMeanMs: failAt === undefined ? null : recoveryMeanMs,
    minConsistencyAfterFailure: failAt === undefined ? null : minTcAfterFailure,
    failedPeers: parts[0]!.failed.length,
    graphConnected: isConnected(alive.map((a) => a.index), edges),
    peersWithShrunkAoi: sum((p) => p.shrunk),
    aoiMeanAtEnd: mean(alive.map((a) => a.aoi)),
    notificationsPerPeer: peers === 0 ? 0 : sum((p) => p.notifications) / peers,
    droppedPerPeer: peers === 0 ? 0 : sum((p) => p.dropped) / peers,
    badMessages: sum((p) => p.badMessages),
    unlawfulStates: sum((p) => p.unlawful),
    joinLoops: sum((p) => p.joinLoops),
    refusedQueries: sum((p) => p.refusedQueries),
    unticketedQueries: sum((p) => p.unticketed),
    ticketsIssued: sum((p) => p.ticketsIssued),
    ticketsTooFar: sum((p) => p.ticketsTooFar),
    introducedLinkShare: dialled === 0 ? 0 : sum((p) => p.introduced) / dialled,
    rejoins: sum((p) => p.rejoins),
    bufferUnits: buffer,
    worldWidth: init.width,
    worldHeight: init.height,
    aoiRadius: init.aoi,
    measureStartSeconds: measureStart / 1000,
    virtualSeconds: endMs / 1000,
    eventsRun: sum((p) => p.eventsRun),
    traceHash: parts.map((p) => p.traceHash).join(''),
    moveLatencyMsP50: direct.quantile(0.5),
    moveLatencyMsP99: direct.quantile(0.99),
    movesMeasured: direct.total + relayed.total,
    relayedMoveLatencyMsP50: relayed.quantile(0.5),
    relayedMoveLatencyMsP99: relayed.quantile(0.99),
    relayedMoves: relayed.total,
    relayHopMsP50: leg.quantile(0.5),
    relayDetourMsP50: hop.quantile(0.5),
    relayDetourMsP99: hop.quantile(0.99),
    relayedLinkShare: openLinks === 0 ? 0 : (paths['peer-relay'] ?? 0) / openLinks,
    relayPeers: loads.length,
    relayCircuitsMean: mean(loads.map((l) => l.circuitsMean)),
    relayCircuitsMax: loads.reduce((a, l) => Math.max(a, l.circuitsMax), 0),
    relayBytesPerSecMean: mean(loads.map((l) => l.bytesPerSec)),
    relayBytesPerSecMax: loads.reduce((a, l) => Math.max(a, l.bytesPerSec), 0),
    relayPeakBytesPerSecMax: loads.reduce((a, l) => Math.max(a, l.peakBytesPerSec), 0),
    relaysOverCap: loads.filter((l) => l.overCap > 0).length,
    circuitsRefused: sum((p) => p.circuitsRefused),
    tamperedFrames: sum((p) => p.tampered),
    reroutedLinks: rerouted,
    rerouteMsMean: rerouted === 0 ? 0 : sum((p) => p.reroute.msSum) / rerouted,
    rerouteMsMax: parts.reduce((a, p) => Math.max(a, p.reroute.msMax), 0),
    rerouteLostLinks: sum((p) => p.reroute.lost),
    ...(init.nat === undefined ? {} : { natOpen: nats.open ?? 0, natEim: nats.eim ?? 0, natRestricted: nats.restricted ?? 0, natSymmetric: nats.symmetric ?? 0 }),
    ...(parts.length > 1 ? { shards: parts.length } : {}),
    ...defenceMetrics(parts.map((p) => p.adversaries)),
    ...(init.adversaries === undefined ? {} : adversaryMetrics(init, parts.map((p) => p.adversaries), victim)),
  }
  const series: Series[] = [
    { name: 'topology consistency', unit: '0..1', points: tc },
    { name: 'drift (mean)', unit: 'units', points: driftSeries },
    { name: 'bytes sent per peer', unit: 'B/s', points: bwSeries },
    { name: 'links per peer', unit: 'links', points: linkSeries },
  ]
  const costs = parts.flatMap((p) => (p.eventCosts === undefined ? [] : [p.eventCosts]))
  const traffic = trafficRows(
    parts.reduce((t, p) => addTraffic(t, p.traffic), {} as TrafficTotals),
    sent.length,
    init.seconds,
  )
  return { metrics, series, overlay: picture(alive, init), traffic, ...(costs.length > 0 ? { eventCosts: mergeEventCosts(costs) } : {}) }
}

function picture(alive: VonShardResult['alive'], init: VonRunInit): OverlayPicture {
  const slot = new Map(alive.map((a, i) => [a.index, i]))
  const links: [number, number][] = []
  for (const [i, a] of alive.entries()) {
    for (const n of a.neighbours) {
      const j = slot.get(n)
      if (j !== undefined && i < j) links.push([i, j])
    }
  }
  return { width: init.width, height: init.height, nodes: alive.map((a) => ({ x: a.x, y: a.y, aoi: a.aoi })), links }
}
