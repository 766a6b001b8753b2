import { parseArgs } from 'node:util'
import { runTarget, type FuzzResult } from './runner.js'
import { TARGETS } from './targets/index.js'

/**
 * `npm run fuzz -- --frames N [--seed S] [--only a,b] [--max-heap-growth-mb M]`:
 * runs every decoder of remote input (or those named) over N generated frames
 * each, prints a table, and exits 1 on any throw, any result outside its
 * bounds, or memory that keeps growing: JS heap and array buffers, measured
 * after a full GC (the npm script runs node with --expose-gc) at a tenth, the
 * middle and the end of the run, up by more than M MB in all and by a quarter
 * of that in each half (a bounded state fills once; a leak grows throughout);
 * or one decode slower than T ms (`--max-decode-ms`, default 1000).
 */
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
    'max-heap-growth-mb': { type: 'string', default: '16' },
    'max-decode-ms': { type: 'string', default: '1000' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  console.log('npm run fuzz -- [--frames N] [--seed S] [--only name,name] [--max-heap-growth-mb M] [--max-decode-ms T] [--list]')
  process.exit(0)
}
if (values.list) {
  for (const t of TARGETS) console.log(`${t.name.padEnd(18)} ${t.what}`)
  process.exit(0)
}

const frames = Number(values.frames)
const seed = values.seed
const maxGrowthMb = Number(values['max-heap-growth-mb'])
const maxDecodeMs = Number(values['max-decode-ms'])
const only = values.only?.split(',').map((s) => s.trim())
const unknown = only?.filter((n) => !TARGETS.some((t) => t.name === n)) ?? []
if (!Number.isInteger(frames) || frames <= 0 || !(maxGrowthMb > 0) || !(maxDecodeMs > 0) || unknown.length > 0) {
  console.error(unknown.length > 0 ? `unknown target(s): ${unknown.join(', ')} (--list shows them)` : 'bad --frames, --max-heap-growth-mb or --max-decode-ms')
  process.exit(2)
}

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) console.warn('no global.gc (run node with --expose-gc): heap figures are rough and not checked')

function memoryMb(): number {
  gc?.()
  const m = process.memoryUsage()
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20
}

const rows: (FuzzResult & { growthMb: number; leaks: boolean })[] = []
const targets = TARGETS.filter((t) => only === undefined || only.includes(t.name))
console.log(`fuzzing ${targets.length} decoders, ${frames} frames each, seed ${seed}`)
for (const t of targets) {
  const points = [Math.floor(frames / 10), Math.floor(frames / 2)]
  const mb: number[] = []
  const r = runTarget(t, frames, seed, {
    at: { frames: points, call: () => void mb.push(memoryMb()) },
    end: () => void mb.push(memoryMb()),
  })
  const [warm = 0, mid = 0, end = 0] = mb
  const growthMb = end - warm
  rows.push({ ...r, growthMb, leaks: gc !== undefined && growthMb > maxGrowthMb && mid - warm > maxGrowthMb / 4 && end - mid > maxGrowthMb / 4 })
  process.stdout.write('.')
}
process.stdout.write('\n')

const head = ['decoder', 'frames', 'accepted', 'rejected', 'throws', 'violations', 'ms', 'slowest ms', 'heap growth MB']
const table = rows.map((r) => [r.name, r.frames, r.accepted, r.rejected, r.throws, r.violations, Math.round(r.ms), r.slowestMs.toFixed(1), r.growthMb.toFixed(2)].map(String))
const sum = (f: (r: FuzzResult) => number): string => String(rows.reduce((s, r) => s + f(r), 0))
table.push(['total', sum((r) => r.frames), sum((r) => r.accepted), sum((r) => r.rejected), sum((r) => r.throws), sum((r) => r.violations), sum((r) => Math.round(r.ms)), '', ''])
const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
console.log(line(head))
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`)
for (const row of table) console.log(line(row))

let failed = false
for (const r of rows) {
  const slow = r.slowestMs > maxDecodeMs
  if (r.throws === 0 && r.violations === 0 && !r.leaks && !slow) continue
  failed = true
  const growth = r.leaks ? `, memory grew ${r.growthMb.toFixed(1)} MB through the run (limit ${maxGrowthMb})` : ''
  console.log(`\n${r.name}: ${r.throws} throws, ${r.violations} violations${growth}${slow ? `, one decode took ${r.slowestMs.toFixed(0)} ms` : ''}`)
  for (const f of r.failures) console.log(`  frame ${f.frame} ${f.kind}: ${f.message}\n    input ${f.input}`)
  console.log(`  reproduce: npm run fuzz -- --seed ${seed} --only ${r.name} --frames ${(r.failures[0]?.frame ?? frames - 1) + 1}`)
}
process.exit(failed ? 1 : 0)
