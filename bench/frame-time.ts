/**
 * Frame time of the game page with N avatars in view (`?stress=N&offline=1`:
 * fake remote avatars walking around the player through the same stores and
 * interpolation as real neighbours, no network), in headless Chromium
 * (software WebGL: --disable-gpu), plus the client bundle's gzip size.
 *   npm run bench:frame -- [--avatars 0,100] [--seconds 10] [--warmup 3] [--json FILE]
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { launchChromium, startServer } from './lib/browser.js'
import { machine, parseArgs, writeJson } from './lib/args.js'
import { mean, percentile } from './lib/stats.js'
import { formatTable } from './lib/table.js'

interface FrameStats {
  frames: number
  intervalsMs: number[]
  workMs: number[]
}

const args = parseArgs(process.argv.slice(2))
const crowds = (args.get('avatars') ?? '0,100').split(',').map(Number)
const seconds = Number(args.get('seconds') ?? 10)
const warmup = Number(args.get('warmup') ?? 3)

/** The client's JavaScript, raw and gzip -9, from dist/ (built by the server start). */
function bundleSizes(): { file: string; bytes: number; gzip: number }[] {
  const dir = join('dist', 'assets')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => {
      const b = readFileSync(join(dir, f))
      return { file: f, bytes: b.length, gzip: gzipSync(b, { level: 9 }).length }
    })
}

const server = await startServer()
const browser = await launchChromium()
const rows: (string | number)[][] = []
const results: Record<string, unknown>[] = []
try {
  for (const n of crowds) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${server.url}?offline=1&stress=${n}`)
    await page.waitForFunction(() => window.__world?.frameStats() !== undefined, null, { timeout: 60_000 })
    await page.waitForTimeout(warmup * 1000)
    const before = (await page.evaluate(() => window.__world!.frameStats()!)) as FrameStats
    await page.waitForTimeout(seconds * 1000)
    const after = (await page.evaluate(() => window.__world!.frameStats()!)) as FrameStats
    const frames = after.frames - before.frames
    const keep = Math.min(frames, after.intervalsMs.length)
    const intervals = after.intervalsMs.slice(-keep)
    const work = after.workMs.slice(-keep)
    const r = {
      avatars: n, frames, fps: frames / seconds,
      intervalMeanMs: mean(intervals), intervalP95Ms: percentile(intervals, 95), intervalP99Ms: percentile(intervals, 99),
      workMeanMs: mean(work), workP95Ms: percentile(work, 95),
    }
    results.push(r)
    rows.push([n, frames, r.fps.toFixed(1), r.intervalMeanMs.toFixed(1), r.intervalP95Ms.toFixed(1), r.intervalP99Ms.toFixed(1), r.workMeanMs.toFixed(1), r.workP95Ms.toFixed(1)])
    await page.close()
  }
} finally {
  await browser.close()
  server.stop()
}
const sizes = bundleSizes()
const total = sizes.reduce((a, s) => ({ bytes: a.bytes + s.bytes, gzip: a.gzip + s.gzip }), { bytes: 0, gzip: 0 })
const when = new Date().toISOString()
const where = await machine()
console.log(`frame time, headless Chromium (software WebGL), 1280x800, ${seconds} s after ${warmup} s warm-up · ${when} · ${where}`)
console.log(formatTable(['avatars', 'frames', 'fps', 'interval mean ms', 'p95', 'p99', 'work mean ms', 'work p95'], rows))
console.log(`\nbundle (dist/assets/*.js): ${(total.bytes / 1024).toFixed(0)} KiB raw, ${(total.gzip / 1024).toFixed(0)} KiB gzip -9`)
console.log(formatTable(['file', 'KiB', 'KiB gzip'], sizes.map((s) => [s.file, (s.bytes / 1024).toFixed(1), (s.gzip / 1024).toFixed(1)])))
writeJson(args.get('json'), { when, machine: where, seconds, warmup, results, bundle: { ...total, files: sizes } })
