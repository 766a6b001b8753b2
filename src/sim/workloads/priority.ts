import { isUint } from '../../core/codec.js'
import { PROTOCOL } from '../../link/link-messages.js'
import { Priority } from '../../link/priority.js'
import { percentile } from '../stats.js'
import { SimWorld, type SimLinkPeer } from '../world.js'

/** The seed-000 workload: moves, maintenance and a bulk transfer sharing one link. */
export interface PriorityWorkloadInit {
  /** 'priority' is our scheduler; 'fifo' puts every class in one queue. */
  mode: 'priority' | 'fifo'
  /** Run the asset transfer (false: the idle arm). */
  transfer: boolean
  /** @default 1 */
  seed?: string | number
  /** Link rate each way, on the wire. @default 125000 (1 Mbit/s) */
  linkBytesPerSec?: number
  /** @default 50 */
  oneWayMs?: number
  /** @default 100 */
  moveBytes?: number
  /** @default 20 */
  moveHz?: number
  /** @default 200 */
  maintenanceBytes?: number
  /** @default 5 */
  maintenanceHz?: number
  /** @default 20 MB */
  assetBytes?: number
  /** @default 10000 */
  assetStartMs?: number
  /** Size of the asset layer's chunks (the link fragments them further). @default 16384 */
  assetChunkBytes?: number
  /** The sender keeps at most this much LOW data queued (it paces by queue length). @default 65536 */
  lowQueueTargetBytes?: number
  /** Measure moves in [assetStartMs, windowEndMs]; default: until the transfer ends. */
  windowEndMs?: number
  /** Give up after this much virtual time. @default 600000 */
  maxMs?: number
}

export interface LatencySummary {
  count: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export interface PriorityArmResult {
  moves: LatencySummary
  maintenance: LatencySummary
  /** Longest time a MEDIUM message waited in our queue (enqueue to hand-off). */
  mediumMaxWaitMs: number
  /** End of the measurement window (transfer done, or the given window end). */
  windowEndMs: number
  assetDeliveredBytes: number
  /** Transfer time from assetStartMs to the last byte delivered, or undefined. */
  transferMs: number | undefined
  /** Wire bytes per second the sender put on the link during the window (all traffic). */
  senderWireBytesPerSec: number
  /** Time on the wire of one fragment at the measured link rate (ms). */
  chunkMs: number
  agingBoundMs: number
  promoted: number
}

const MSG = { MOVE: 1, MAINT: 2, CHUNK: 3 } as const

/** Runs one arm of the priority benchmark in the simulator and measures it. */
export function runPriorityArm(init: PriorityWorkloadInit): PriorityArmResult {
  const cfg = {
    seed: 1,
    linkBytesPerSec: 125_000,
    oneWayMs: 50,
    moveBytes: 100,
    moveHz: 20,
    maintenanceBytes: 200,
    maintenanceHz: 5,
    assetBytes: 20_000_000,
    assetStartMs: 10_000,
    assetChunkBytes: 16_384,
    lowQueueTargetBytes: 65_536,
    maxMs: 600_000,
    ...init,
  }
  const world = new SimWorld({ seed: cfg.seed, link: { mode: cfg.mode } })
  const rate = cfg.linkBytesPerSec
  // One bottleneck each way: the sender's uplink. A second store-and-forward
  // bottleneck at the receiver would add a packet time that no scheduler can remove.
  const spec = { y: 0, accessMs: cfg.oneWayMs / 2, upBytesPerSec: rate }
  const a = world.addPeer({ ...spec, x: 0 })
  const b = world.addPeer({ ...spec, x: 0 })
  const sim = world.sim

  const moveSent = new Map<number, number>()
  const maintSent = new Map<number, number>()
  const moveLatency: number[] = []
  const maintLatency: number[] = []
  let assetDelivered = 0
  let transferDoneAt: number | undefined
  let windowEnd = cfg.windowEndMs ?? Infinity
  const inWindow = (t: number): boolean => t >= cfg.assetStartMs && t <= windowEnd
  const senderStats = world.net.node(a.id)!.stats
  let wireAtStart = 0
  let wireAtEnd: number | undefined
  const closeWindow = (): void => {
    wireAtEnd ??= senderStats.wireBytesSent
  }
  a.env.timers.setTimeout(() => (wireAtStart = senderStats.wireBytesSent), cfg.assetStartMs)
  if (cfg.windowEndMs !== undefined) a.env.timers.setTimeout(closeWindow, cfg.windowEndMs)

  b.links.handle(PROTOCOL.TEST, MSG.MOVE, (_from, p) => record(p, moveSent, moveLatency))
  b.links.handle(PROTOCOL.TEST, MSG.MAINT, (_from, p) => record(p, maintSent, maintLatency))
  b.links.handle(PROTOCOL.TEST, MSG.CHUNK, (_from, p) => {
    if (!Array.isArray(p) || !(p[1] instanceof Uint8Array)) return
    assetDelivered += p[1].length
    if (assetDelivered >= cfg.assetBytes && transferDoneAt === undefined) {
      transferDoneAt = sim.now
      if (cfg.windowEndMs === undefined) {
        windowEnd = sim.now
        closeWindow()
      }
    }
  })
  function record(p: unknown, sent: Map<number, number>, out: number[]): void {
    if (!Array.isArray(p) || !isUint(p[0])) return
    const t0 = sent.get(p[0])
    sent.delete(p[0])
    if (t0 !== undefined && inWindow(t0)) out.push(sim.now - t0)
  }

  a.links.connect(b.id)
  const pad = (n: number): Uint8Array => new Uint8Array(Math.max(0, n))
  every(world, a, 1000 / cfg.moveHz, (seq) => {
    moveSent.set(seq, sim.now)
    a.links.send(b.id, PROTOCOL.TEST, MSG.MOVE, [seq, pad(cfg.moveBytes - 8)], Priority.HIGH)
  })
  every(world, a, 1000 / cfg.maintenanceHz, (seq) => {
    maintSent.set(seq, sim.now)
    a.links.send(b.id, PROTOCOL.TEST, MSG.MAINT, [seq, pad(cfg.maintenanceBytes - 8)], Priority.MEDIUM)
  })

  if (cfg.transfer) {
    let offset = 0
    const pollMs = 10
    const feed = (): void => {
      const queued = a.links.queueStats(b.id)?.[Priority.LOW].bytes ?? 0
      let room = cfg.lowQueueTargetBytes - queued
      while (room > 0 && offset < cfg.assetBytes) {
        const n = Math.min(cfg.assetChunkBytes, cfg.assetBytes - offset)
        a.links.send(b.id, PROTOCOL.TEST, MSG.CHUNK, [offset, pad(n)], Priority.LOW)
        offset += n
        room -= n
      }
      if (offset < cfg.assetBytes) a.env.timers.setTimeout(feed, pollMs)
    }
    a.env.timers.setTimeout(feed, cfg.assetStartMs)
  }

  const stopAt = cfg.transfer ? cfg.maxMs : Math.min(cfg.maxMs, windowEnd + 1000)
  sim.runWhile(() => !(cfg.transfer ? transferDoneAt !== undefined && sim.now > transferDoneAt + 1000 : false), stopAt)
  sim.runUntil(Math.min(sim.now + 1000, stopAt))

  const link = a.links.link(b.id)
  if (link === undefined) throw new Error('invariant: benchmark link closed')
  const measuredEnd = Math.min(windowEnd, sim.now)
  const span = (measuredEnd - cfg.assetStartMs) / 1000
  const wireInWindow = (wireAtEnd ?? senderStats.wireBytesSent) - wireAtStart
  return {
    moves: summarize(moveLatency),
    maintenance: summarize(maintLatency),
    mediumMaxWaitMs: link.scheduler.stats.maxWaitMs[Priority.MEDIUM],
    windowEndMs: measuredEnd,
    assetDeliveredBytes: assetDelivered,
    transferMs: transferDoneAt === undefined ? undefined : transferDoneAt - cfg.assetStartMs,
    senderWireBytesPerSec: span > 0 ? wireInWindow / span : 0,
    chunkMs: (world.net.wireBytes(link.fragmentBytes) * 1000) / rate,
    agingBoundMs: link.scheduler.agingBoundMs,
    promoted: link.scheduler.stats.promoted,
  }
}

/** Calls `fn(seq)` every `periodMs` from t = 1 s (the link is open by then) on the peer's own timers. */
function every(world: SimWorld, peer: SimLinkPeer, periodMs: number, fn: (seq: number) => void): void {
  let seq = 0
  const tick = (): void => {
    fn(seq++)
    peer.env.timers.setTimeout(tick, periodMs)
  }
  peer.env.timers.setTimeout(tick, 1000 + world.sim.rng('phase').next() * periodMs)
}

function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((x, y) => x - y)
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  }
}
