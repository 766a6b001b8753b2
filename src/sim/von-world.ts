import type { PeerId } from '../core/id.js'
import type { LinkManagerInit } from '../link/link-manager.js'
import { VonPeer, type VonInit } from '../von/von-peer.js'
import { massFailure } from './churn.js'
import { FlashCrowd, Hotspots, RandomWaypoint, type Mobility, type Point } from './mobility.js'
import type { OverlayPicture, ScenarioResult, Series, TraceSink } from './scenario.js'
import { mean, percentile } from './stats.js'
import { isConnected, sampleConsistency, type Observed } from './von-metrics.js'
import { SimWorld, type SimLinkPeer } from './world.js'

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
  mobility: 'waypoint' | 'hotspot' | 'flash'
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
  von?: VonInit
  /**
   * What the bootstrap node's host cache hands a joiner: three live peers nearest
   * its entry point by the positions peers last reported (every 10 s), so its
   * query walks a few hops; or three at random (a query walks O(sqrt N) hops).
   * @default 'nearest'
   */
  hostCache?: 'nearest' | 'random'
  /** LinkManager options of every peer. */
  link?: LinkManagerInit
  /** Mean one-way latency is about 20 ms of access plus the plane's mean distance. @default 60 */
  latencyPlaneMs?: number
  /** Uplink of every peer (bytes/s). @default 250000 (2 Mbit/s) */
  upBytesPerSec?: number
  trace?: TraceSink
  progress?: (fraction: number) => void
  /** Called at each sample with every joined live peer (debugging and tests). */
  onSample?: (now: number, peers: readonly { index: number; x: number; y: number; von: VonPeer }[]) => void
}

interface Member {
  readonly index: number
  readonly peer: SimLinkPeer
  readonly von: VonPeer
  readonly pos: Point
  joinAt: number
  joinedAt: number
  /** Position last reported to the bootstrap node's host cache. */
  reported: Point
  completeAt: number
  alive: boolean
  /** Since when it has had neither a neighbour nor a link (-1: it has some). */
  aloneSince: number
}

/**
 * Runs a VON world in the simulator: peers join through the real protocol with a
 * random live peer as gateway, move by a mobility model every step, and are
 * measured against the global truth (topology consistency, drift, bandwidth,
 * links, join latency, recovery after a mass failure, connectivity).
 */
export function runVon(init: VonRunInit): ScenarioResult {
  const stepMs = 1000 / init.stepsPerSec
  const sampleMs = init.sampleMs ?? 200
  const buffer = init.buffer ?? Math.max(10, init.speed * 3 * 2)
  const world = new SimWorld({ seed: init.seed, link: init.link })
  const sim = world.sim
  const rng = sim.rng('von-world')
  const box = { width: init.width, height: init.height }
  const mobility = makeMobility(init, box, sim.rng('mobility'))
  const plane = init.latencyPlaneMs ?? 60
  const byId = new Map<PeerId, number>()
  const members: Member[] = []
  for (let i = 0; i < init.peers; i++) {
    const peer = world.addPeer({
      x: rng.next() * plane,
      y: rng.next() * plane,
      accessMs: 5 + rng.next() * 10,
      upBytesPerSec: init.upBytesPerSec ?? 250_000,
    })
    const von = new VonPeer({ env: peer.env, links: peer.links, localId: peer.id }, { aoiRadius: init.aoi, buffer, ...init.von })
    byId.set(peer.id, i)
    const pos = mobility.place(i)
    members.push({ index: i, peer, von, pos, joinAt: -1, joinedAt: -1, completeAt: -1, alive: true, aloneSince: -1, reported: { ...pos } })
  }

  const joinMs = init.joinSeconds * 1000
  const measureStart = joinMs + init.settleSeconds * 1000
  const endMs = measureStart + init.seconds * 1000
  const failAt = init.failure === undefined ? undefined : measureStart + init.failure.atSeconds * 1000
  const joined: Member[] = []
  for (const m of members) {
    // A world grows: joins start slowly and speed up (peer i at joinMs * sqrt(i / n)).
    const at = init.peers <= 1 ? 0 : Math.round(Math.sqrt(m.index / init.peers) * joinMs)
    sim.at(at, () => {
      m.joinAt = sim.now
      const gateways = (): PeerId[] => hostCache(joined.filter((j) => j.alive), m.pos, init.hostCache ?? 'nearest', rng)
      const first = joined.length === 0
      m.von.join(m.pos.x, m.pos.y, gateways)
      // The first peer starts the world; later ones enter the host cache once joined.
      if (first) {
        m.joinedAt = sim.now
        joined.push(m)
      }
    })
  }

  let step = 0
  let rejoins = 0
  const reportEvery = Math.max(1, Math.round(REPORT_PERIOD_MS / stepMs))
  const stepAll = (): void => {
    step++
    for (const m of members) {
      if (!m.alive || m.joinAt < 0) continue
      mobility.step(m.index, m.pos)
      m.von.move(m.pos.x, m.pos.y)
      if ((step + m.index) % reportEvery === 0) m.reported = { ...m.pos }
      if (m.joinedAt < 0 && m.von.joined) {
        // Joined: the host cache may hand it out from now on.
        m.joinedAt = sim.now
        joined.push(m)
      }
      // Every neighbour it had failed: like a real Peer, it rejoins through the bootstrap node.
      if (m.joinedAt >= 0 && m.von.joined && m.von.table.size === 0 && m.peer.links.linkCount === 0 && joined.length > 1) {
        if (m.aloneSince < 0) m.aloneSince = sim.now
        else if (sim.now - m.aloneSince >= ALONE_GRACE_MS) {
          m.aloneSince = -1
          rejoins++
          m.von.rejoin(() => hostCache(joined.filter((j) => j.alive && j !== m), m.pos, init.hostCache ?? 'nearest', rng))
        }
      } else m.aloneSince = -1
    }
    init.progress?.(sim.now / endMs)
    if (sim.now + stepMs <= endMs) sim.after(stepMs, stepAll)
  }
  sim.after(stepMs, stepAll)

  let failed: number[] = []
  if (failAt !== undefined) {
    sim.at(failAt, () => {
      failed = massFailure(sim.rng('failure'), init.peers, init.failure!.fraction)
      for (const i of failed) {
        members[i]!.alive = false
        world.crash(members[i]!.peer)
      }
    })
  }

  // ---- sampling ----
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
  let observedSum = 0
  let linkMax = 0
  let lastBytes = 0
  let recoveryMs: number | null = null
  let recovery100Ms: number | null = null
  let minTcAfterFailure = 1
  const snapshotStart = new Map<number, { sent: number; received: number }>()

  const sample = (): void => {
    const now = sim.now
    for (const m of members) if (m.joinedAt < 0 && m.von.joined) {
      m.joinedAt = now
      joined.push(m)
    }
    const present = members.filter((m) => m.alive && m.joinedAt >= 0)
    init.onSample?.(now, present.map((m) => ({ index: m.index, x: m.pos.x, y: m.pos.y, von: m.von })))
    const observed: Observed[] = present.map((m) => observe(m, byId))
    const s = sampleConsistency(observed)
    const value = s.truth === 0 ? 1 : s.hits / s.truth
    tc.push([now / 1000, value])
    driftSeries.push([now / 1000, s.hits === 0 ? 0 : s.driftSum / s.hits])
    present.forEach((m, i) => {
      if (m.completeAt < 0 && s.complete[i]) m.completeAt = now
    })
    let links = 0
    for (const m of present) {
      links += m.peer.links.linkCount
      if (now >= measureStart) linkMax = Math.max(linkMax, m.peer.links.linkCount)
    }
    linkSeries.push([now / 1000, present.length === 0 ? 0 : links / present.length])
    let bytes = 0
    for (const m of members) bytes += world.net.node(m.peer.id)!.stats.bytesSent
    bwSeries.push([now / 1000, present.length === 0 ? 0 : (bytes - lastBytes) / present.length / (sampleMs / 1000)])
    lastBytes = bytes
    if (now >= measureStart && now <= endMs) {
      hits += s.hits
      truth += s.truth
      driftSum += s.driftSum
      driftMax = Math.max(driftMax, s.driftMax)
      linkSum += links
      linkSamples += present.length
      observedSum += present.length
      if (failAt !== undefined && now > failAt) {
        minTcAfterFailure = Math.min(minTcAfterFailure, value)
        if (recoveryMs === null && value >= 0.99) recoveryMs = now - failAt
        if (recovery100Ms === null && value >= 1) recovery100Ms = now - failAt
        if (value < 0.99) recoveryMs = null
        if (value < 1) recovery100Ms = null
      }
      init.trace?.write({ t: now / 1000, peers: observed.map(traceRecord) })
    }
    if (now + sampleMs <= endMs) sim.after(sampleMs, sample)
  }
  sim.at(sampleMs, sample)
  sim.at(measureStart, () => {
    for (const m of members) {
      const st = world.net.node(m.peer.id)!.stats
      snapshotStart.set(m.index, { sent: st.bytesSent, received: st.bytesReceived })
    }
  })

  sim.runUntil(endMs)

  // ---- results ----
  const span = init.seconds
  const measured = members.filter((m) => m.alive && m.joinedAt >= 0 && m.joinedAt <= measureStart)
  const sent = measured.map((m) => (world.net.node(m.peer.id)!.stats.bytesSent - (snapshotStart.get(m.index)?.sent ?? 0)) / span)
  const received = measured.map((m) => (world.net.node(m.peer.id)!.stats.bytesReceived - (snapshotStart.get(m.index)?.received ?? 0)) / span)
  const joinLatencies = members
    .filter((m) => m.completeAt >= 0 && m.joinAt >= 0)
    .map((m) => m.completeAt - m.joinAt)
    .sort((a, b) => a - b)
  const alive = members.filter((m) => m.alive && m.joinedAt >= 0)
  const edges = new Map<number, number[]>()
  for (const m of alive) edges.set(m.index, [...m.von.table.values()].map((n) => byId.get(n.id)!).filter((j) => members[j]!.alive))
  const shrunk = members.filter((m) => m.von.aoi < init.aoi - 1e-9).length
  const vonStats = members.map((m) => m.von.stats)
  const metrics = {
    topologyConsistency: truth === 0 ? 1 : hits / truth,
    driftMean: hits === 0 ? 0 : driftSum / hits,
    driftMax,
    sentBytesPerPeerPerSecMean: mean(sent),
    sentBytesPerPeerPerSecMax: sent.length === 0 ? 0 : Math.max(...sent),
    receivedBytesPerPeerPerSecMean: mean(received),
    receivedBytesPerPeerPerSecMax: received.length === 0 ? 0 : Math.max(...received),
    linksPerPeerMean: linkSamples === 0 ? 0 : linkSum / linkSamples,
    linksPerPeerMax: linkMax,
    neighboursPerPeerMean: mean(alive.map((m) => m.von.table.size)),
    aoiNeighboursTrueMean: observedSum === 0 ? 0 : truth / observedSum,
    joinLatencyMsMedian: percentile(joinLatencies, 0.5),
    joinLatencyMsP95: percentile(joinLatencies, 0.95),
    joinedPeers: members.filter((m) => m.joinedAt >= 0).length,
    recoveryMs: failAt === undefined ? null : recoveryMs,
    recoveryTo100Ms: failAt === undefined ? null : recovery100Ms,
    minConsistencyAfterFailure: failAt === undefined ? null : minTcAfterFailure,
    failedPeers: failed.length,
    graphConnected: isConnected(alive.map((m) => m.index), edges),
    peersWithShrunkAoi: shrunk,
    aoiMeanAtEnd: mean(alive.map((m) => m.von.aoi)),
    notificationsPerPeer: mean(vonStats.map((s) => s.notificationsSent)),
    droppedPerPeer: mean(vonStats.map((s) => s.dropped)),
    badMessages: vonStats.reduce((a, s) => a + s.badMessages, 0),
    introducedLinkShare: introducedShare(members),
    rejoins,
    bufferUnits: buffer,
    worldWidth: init.width,
    worldHeight: init.height,
    aoiRadius: init.aoi,
    measureStartSeconds: measureStart / 1000,
    virtualSeconds: endMs / 1000,
    eventsRun: sim.eventsRun,
    traceHash: sim.traceHash,
  }
  const series: Series[] = [
    { name: 'topology consistency', unit: '0..1', points: tc },
    { name: 'drift (mean)', unit: 'units', points: driftSeries },
    { name: 'bytes sent per peer', unit: 'B/s', points: bwSeries },
    { name: 'links per peer', unit: 'links', points: linkSeries },
  ]
  return { metrics, series, overlay: picture(alive, byId, init) }
}

const REPORT_PERIOD_MS = 10_000
/** A peer alone this long rejoins (the real Peer waits 2-6 s: aloneGraceMs). */
const ALONE_GRACE_MS = 2000

/** Gateways for a joiner at `p` (see VonRunInit.hostCache). */
function hostCache(live: readonly Member[], p: Point, kind: 'nearest' | 'random', rng: { int(n: number): number }): PeerId[] {
  if (live.length === 0) return []
  if (kind === 'random') return [0, 1, 2].map(() => live[rng.int(live.length)]!.peer.id)
  const best: { d: number; m: Member }[] = []
  for (const m of live) {
    const d = (m.reported.x - p.x) ** 2 + (m.reported.y - p.y) ** 2
    if (best.length < 3 || d < best[best.length - 1]!.d) {
      best.push({ d, m })
      best.sort((a, b) => a.d - b.d || a.m.index - b.m.index)
      if (best.length > 3) best.pop()
    }
  }
  return best.map((b) => b.m.peer.id)
}

function makeMobility(init: VonRunInit, box: { width: number; height: number }, rng: ReturnType<SimWorld['sim']['rng']>): Mobility {
  switch (init.mobility) {
    case 'waypoint':
      return new RandomWaypoint(box, init.speed, rng)
    case 'hotspot':
      return new Hotspots(box, init.speed, rng, Math.max(2, Math.round(init.peers / 50)), init.aoi * 1.5, 0.05)
    case 'flash':
      return new FlashCrowd(box, init.speed, rng, { x: box.width / 2, y: box.height / 2 }, init.aoi / 2, Math.round(init.stepsPerSec * (init.joinSeconds + init.settleSeconds)))
  }
}

function observe(m: Member, byId: ReadonlyMap<PeerId, number>): Observed {
  const known = new Map<number, { x: number; y: number }>()
  for (const n of m.von.table.values()) known.set(byId.get(n.id)!, n)
  return { index: m.index, x: m.pos.x, y: m.pos.y, aoi: m.von.aoi, known }
}

function traceRecord(o: Observed): unknown {
  const r = (v: number): number => Math.round(v * 100) / 100
  return { p: o.index, x: r(o.x), y: r(o.y), r: r(o.aoi), known: [...o.known].map(([q, b]) => [q, r(b.x), r(b.y)]) }
}

function introducedShare(members: readonly Member[]): number {
  let intro = 0
  let total = 0
  for (const m of members) {
    intro += m.peer.links.stats.introduced
    total += m.peer.links.stats.introduced + m.peer.links.stats.viaSignaling
  }
  return total === 0 ? 0 : intro / total
}

function picture(alive: readonly Member[], byId: ReadonlyMap<PeerId, number>, init: VonRunInit): OverlayPicture {
  const slot = new Map(alive.map((m, i) => [m.index, i]))
  const links: [number, number][] = []
  for (const m of alive) {
    for (const n of m.von.table.values()) {
      const j = slot.get(byId.get(n.id)!)
      const i = slot.get(m.index)!
      if (j !== undefined && i < j) links.push([i, j])
    }
  }
  return { width: init.width, height: init.height, nodes: alive.map((m) => ({ x: m.pos.x, y: m.pos.y, aoi: m.von.aoi })), links }
}
