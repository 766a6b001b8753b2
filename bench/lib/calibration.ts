import type { PeerId } from '../../src/core/id.js'
import type { Peer, PeerListener } from '../../src/peer/peer.js'
import { RandomWaypoint, type Point } from '../../src/sim/mobility.js'
import { SeededRng } from '../../src/sim/rng.js'
import { sampleConsistency, type Observed } from '../../src/sim/von-metrics.js'
import { percentile } from './stats.js'

/**
 * The calibration workload, run unchanged in the simulator and on real WebRTC:
 * `peers` peers join one every `joinEveryMs` and walk a scripted random-waypoint
 * path (the same positions in both runs, from the seed); after `settleMs`,
 * consistency is sampled and every move's delivery timed for `measureMs`.
 */
export interface CalibrationScenario {
  seed: string
  peers: number
  width: number
  height: number
  aoi: number
  buffer: number
  stepsPerSec: number
  /** Units per step. */
  speed: number
  joinEveryMs: number
  settleMs: number
  measureMs: number
  sampleMs: number
}

/** 10 peers in 600 x 600 with AOI 200: about 3 in each AOI; the game's speed (5 units a step, 10 steps/s). */
export const DEFAULT_SCENARIO: CalibrationScenario = {
  seed: 'calibrate', peers: 10, width: 600, height: 600, aoi: 200, buffer: 30,
  stepsPerSec: 10, speed: 5, joinEveryMs: 500, settleMs: 3000, measureMs: 30_000, sampleMs: 200,
}

/** Where a run's peers live: virtual time and the simulated network, or real time and WebRTC. */
export interface CalibrationDriver {
  readonly name: string
  /** ms since the run started. */
  now(): number
  /** Creates peer `i` with this listener and joins it at (x, y). */
  add(i: number, x: number, y: number, listener: PeerListener): Peer | Promise<Peer>
  /** Calls `fn` at `ms` after the start. */
  at(ms: number, fn: () => void): void
  /** Runs until `ms` after the start. */
  runUntil(ms: number): Promise<void>
  /** The host under a real run: 1-minute load average at start and end, and the event loop's lateness. */
  host?(): HostLoad
  close(): Promise<void>
}

export interface HostLoad {
  loadAverage: [number, number]
  /** CPU this process used (all its threads, libwebrtc's included), % of one core. */
  processCpuPercent: number
  eventLoopDelayMs: { p50: number; p95: number; p99: number }
}

export interface LatencySummary {
  count: number
  p50: number
  p95: number
  p99: number
  max: number
}

export interface CalibrationResult {
  run: string
  topologyConsistency: number
  driftMean: number
  /** One-way: from `peer.move()` on the mover to `onMove` on each neighbour. */
  moveLatencyMs: LatencySummary
  /** From `join()` to the state 'joined'. */
  joinMs: { p50: number; max: number }
  joined: number
  linksMean: number
  wallSeconds: number
  host: HostLoad | null
}

/** Scripted positions: `start[i]`, then `path[k][i]` at step k (k = 1, 2 ...). */
function script(sc: CalibrationScenario, steps: number): { start: Point[]; path: Point[][] } {
  const mobility = new RandomWaypoint({ width: sc.width, height: sc.height }, sc.speed, new SeededRng(sc.seed, 'calibrate/mobility'))
  const start = Array.from({ length: sc.peers }, (_, i) => mobility.place(i))
  const at = start.map((p) => ({ ...p }))
  // VON sends positions in hundredths of a unit: scripted positions are on that grid, so a received one matches exactly.
  const grid = (p: Point): Point => ({ x: Math.round(p.x * 100) / 100, y: Math.round(p.y * 100) / 100 })
  const path: Point[][] = [start.map(grid)]
  for (let k = 1; k <= steps; k++) {
    at.forEach((p, i) => mobility.step(i, p))
    path.push(at.map(grid))
  }
  return { start: path[0]!, path }
}

export function summarise(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: samples.length === 0 ? NaN : Math.max(...samples),
  }
}

/** What the oracle needs: each peer's true position and AOI, and the neighbours it believes in. */
function observe(members: readonly { i: number; peer: Peer }[], indexOf: ReadonlyMap<PeerId, number>): Observed[] {
  return members.map(({ i, peer }) => {
    const known = new Map<number, { x: number; y: number }>()
    for (const n of peer.von.table.values()) {
      const j = indexOf.get(n.id)
      if (j !== undefined) known.set(j, n)
    }
    return { index: i, x: peer.x, y: peer.y, aoi: peer.von.aoi, known }
  })
}

/** Runs the scenario on `driver` and measures it. */
export async function runCalibration(sc: CalibrationScenario, driver: CalibrationDriver): Promise<CalibrationResult> {
  const wall0 = performance.now()
  const stepMs = 1000 / sc.stepsPerSec
  const measureFrom = sc.peers * sc.joinEveryMs + sc.settleMs
  const endMs = measureFrom + sc.measureMs
  const { start, path } = script(sc, Math.ceil(endMs / stepMs))
  const members: { i: number; peer: Peer }[] = []
  const indexOf = new Map<PeerId, number>()
  const joinAt: number[] = []
  const joinMs: number[] = []
  /** Send time of each move, by `${mover}|${x}|${y}` (scripted positions survive the wire exactly). */
  const sentAt = new Map<string, number>()
  const latencies: number[] = []

  for (let i = 0; i < sc.peers; i++) {
    driver.at(i * sc.joinEveryMs, () => {
      const listener: PeerListener = {
        onMove: (id, x, y) => {
          const t = sentAt.get(`${indexOf.get(id)}|${x}|${y}`)
          if (t !== undefined) latencies.push(driver.now() - t)
        },
        onState: (state) => {
          if (state === 'joined' && joinMs[i] === undefined) joinMs[i] = driver.now() - joinAt[i]!
        },
      }
      joinAt[i] = driver.now()
      const register = (peer: Peer): void => {
        members.push({ i, peer })
        indexOf.set(peer.id, i)
      }
      const added = driver.add(i, start[i]!.x, start[i]!.y, listener)
      if (added instanceof Promise) void added.then(register)
      else register(added)
    })
  }
  // Each peer steps on its own phase within the step, as independent players do: moving all
  // at one instant would measure how one process drains a burst of every peer's messages.
  for (let i = 0; i < sc.peers; i++) {
    const phase = (i * stepMs) / sc.peers
    for (let k = 1; k * stepMs + phase <= endMs; k++) {
      driver.at(k * stepMs + phase, () => {
        const peer = members.find((m) => m.i === i)?.peer
        if (peer === undefined) return
        const to = path[k]![i]!
        if (driver.now() >= measureFrom) sentAt.set(`${i}|${to.x}|${to.y}`, driver.now())
        peer.move(to.x, to.y)
      })
    }
  }
  let hits = 0
  let truth = 0
  let driftSum = 0
  let links = 0
  let linkSamples = 0
  // Samples fall between two peers' phases: at a move's own instant no neighbour can know it yet.
  for (let t = measureFrom + stepMs / sc.peers / 2; t <= endMs; t += sc.sampleMs) {
    driver.at(t, () => {
      const s = sampleConsistency(observe(members, indexOf))
      hits += s.hits
      truth += s.truth
      driftSum += s.driftSum
      for (const { peer } of members) links += peer.stats().links.open
      linkSamples += members.length
    })
  }
  await driver.runUntil(endMs + 50)
  const joined = members.filter((m) => m.peer.state === 'joined').length
  const host = driver.host?.() ?? null
  await driver.close()
  return {
    run: driver.name,
    topologyConsistency: truth === 0 ? 1 : hits / truth,
    driftMean: hits === 0 ? 0 : driftSum / hits,
    moveLatencyMs: summarise(latencies),
    joinMs: { p50: percentile(joinMs.filter((x) => x !== undefined), 50), max: Math.max(...joinMs.filter((x) => x !== undefined)) },
    joined,
    linksMean: linkSamples === 0 ? 0 : links / linkSamples,
    wallSeconds: (performance.now() - wall0) / 1000,
    host,
  }
}
