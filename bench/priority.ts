/**
 * Seed 000's experiment: moves, overlay maintenance and a bulk transfer share one
 * 1 Mbit/s, 50 ms link. Arms: idle (no transfer), FIFO (one queue), our scheduler.
 *   npm run bench:priority -- [--json FILE] [--asset-mb 20] [--seed 1]
 */
import { runPriorityArm, type PriorityArmResult } from '../src/sim/workloads/priority.js'
import { formatTable } from './lib/table.js'
import { machine, parseArgs, writeJson } from './lib/args.js'

const args = parseArgs(process.argv.slice(2))
const assetBytes = Math.round(Number(args.get('asset-mb') ?? 20) * 1_000_000)
const seed = args.get('seed') ?? '1'
const linkBytesPerSec = 125_000
const started = performance.now()

const priority = runPriorityArm({ mode: 'priority', transfer: true, assetBytes, seed })
const fifo = runPriorityArm({ mode: 'fifo', transfer: true, assetBytes, seed })
const idle = runPriorityArm({ mode: 'priority', transfer: false, seed, windowEndMs: priority.windowEndMs })

const spare = linkBytesPerSec - idle.senderWireBytesPerSec
const goodput = (r: PriorityArmResult): number => (r.transferMs === undefined ? NaN : r.assetDeliveredBytes / (r.transferMs / 1000))
const share = (r: PriorityArmResult): number => goodput(r) / spare

const row = (name: string, r: PriorityArmResult, transfer: boolean): (string | number)[] => [
  name,
  r.moves.count,
  r.moves.p50Ms,
  r.moves.p99Ms,
  r.moves.maxMs,
  r.maintenance.p99Ms,
  r.mediumMaxWaitMs,
  transfer ? goodput(r) / 1000 : '-',
  transfer ? `${(share(r) * 100).toFixed(1)} %` : '-',
]
console.log(`priority scheduling: 1 Mbit/s, 50 ms one-way; moves 100 B @ 20 Hz HIGH, maintenance 200 B @ 5 Hz MEDIUM, ` +
  `${assetBytes / 1e6} MB LOW transfer from t = 10 s; seed ${seed}`)
console.log(`window: t = 10 s .. ${(priority.windowEndMs / 1000).toFixed(1)} s (priority transfer); spare capacity ${(spare / 1000).toFixed(1)} kB/s on the wire`)
console.log(formatTable(
  ['arm', 'moves', 'p50 ms', 'p99 ms', 'max ms', 'maint p99 ms', 'MEDIUM max wait ms', 'goodput kB/s', 'share of spare'],
  [row('idle', idle, false), row('fifo', fifo, true), row('priority', priority, true)],
))
console.log(`aging bound ${priority.agingBoundMs} ms, chunk ${priority.chunkMs.toFixed(1)} ms on the wire; ` +
  `p99 during transfer - idle p99 = ${(priority.moves.p99Ms - idle.moves.p99Ms).toFixed(1)} ms (goal <= 20); ` +
  `MEDIUM promoted ${priority.promoted} times`)
console.log(`${await machine()}; wall ${((performance.now() - started) / 1000).toFixed(1)} s`)

const lat = (r: PriorityArmResult) => ({ p50Ms: r.moves.p50Ms, p99Ms: r.moves.p99Ms, maxMs: r.moves.maxMs, count: r.moves.count })
writeJson(args.get('json'), {
  idle: lat(idle),
  fifo: lat(fifo),
  priority: lat(priority),
  mediumMaxWaitMs: priority.mediumMaxWaitMs,
  agingBoundMs: priority.agingBoundMs,
  chunkMs: priority.chunkMs,
  goodputShare: share(priority),
  fifoGoodputShare: share(fifo),
  spareBytesPerSec: spare,
  goodputBytesPerSec: goodput(priority),
  seed,
  assetBytes,
})
