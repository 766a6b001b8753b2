/**
 * Move latency through the page: two headless Chromium pages (separate contexts)
 * on `npm start`'s server (in this process), placed as AOI neighbours. Page A
 * walks, sending a move every 100 ms; page B stamps each of A's positions as
 * its peer delivers it. Latency = arrival in B − hand-off to the peer in A, both
 * read as performance.timeOrigin + performance.now() (one machine's wall clock;
 * the agreement of the two pages' clocks is measured and printed). Phase 1 idle;
 * phase 2 while B fetches A's 256 KiB assets back to back (fresh: B forgets each
 * one after fetching it), so LOW bulk data shares the link with the moves for the
 * whole phase, at the rate B's asset service paces its fetches to (printed).
 * Phases alternate for `--rounds`, so background load weighs on both alike.
 * Each page also records its main thread's stalls (a 5 ms interval's lateness),
 * which tells CPU contention apart from waiting in the link's queues.
 *   npx tsx bench/move-latency.ts [--seconds 10] [--rounds 3] [--fetchers 2] [--profile] [--json FILE]
 * `--profile`: afterwards, a CPU profile of B's main thread while it fetches.
 */
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { stdoutLog } from '../signaling/cli-support.js'
import { ensureClientBuilt } from '../signaling/client-build.js'
import { startWorldServer } from '../signaling/world-server.js'
import type { LinkInfo } from '../src/ui/test-hook.js'
import { launchChromium } from './lib/browser.js'
import { profilePage, sourceMapsOf, type ProfileEntry } from './lib/cpu-profile.js'
import { machine, parseArgs, writeJson } from './lib/args.js'
import { percentile } from './lib/stats.js'
import { formatTable } from './lib/table.js'

interface Traced {
  id: string
  t: number
  x: number
  y: number
}

interface Phase {
  name: string
  /** Main-thread stalls (ms) of A and of B: how late a 5 ms interval ran. */
  stallsA: number[]
  stallsB: number[]
  sent: number
  matched: number
  latenciesMs: number[]
  /** B's view of A: bytes received on the link during the phase. */
  bytesFromA: number
  /** Fraction of the phase during which at least one fetch was running. */
  transferBusy: number
  fetched: number
  fetchFailed: number
  /** B's HUD estimate at the end of the phase (RTT/2 over VON neighbour links). */
  hud: { p50Ms: number; p95Ms: number } | null
  rttToA: { srttMs: number; samples: number; recentMs: readonly number[] } | undefined
}

const args = parseArgs(process.argv.slice(2))
const seconds = Number(args.get('seconds') ?? 10)
const rounds = Math.max(1, Number(args.get('rounds') ?? 3))
const fetchers = Math.max(1, Number(args.get('fetchers') ?? 2))
const ASSET_BYTES = 256 * 1024

const wall = (): number => performance.timeOrigin + performance.now()

/** Offset of a page's wall clock from ours: the evaluate round trip with the least delay bounds it. */
async function clockOffset(page: Page): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  let best = { offsetMs: 0, uncertaintyMs: Infinity }
  for (let i = 0; i < 40; i++) {
    const t0 = wall()
    const tp = await page.evaluate(() => performance.timeOrigin + performance.now())
    const t1 = wall()
    if ((t1 - t0) / 2 < best.uncertaintyMs) best = { offsetMs: tp - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2 }
  }
  return best
}

/**
 * Mean of (timeOrigin + now) − Date.now() in a page, over samples spread across
 * many milliseconds: Date.now() reads the system clock both pages share, and
 * truncating it to whole ms adds the same 0.5 ms on average to every page.
 */
function offsetFromSystemClock(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let sum = 0
    const n = 400
    for (let i = 0; i < n; i++) {
      sum += performance.timeOrigin + performance.now() - Date.now()
      await new Promise((r) => setTimeout(r, (i % 7) / 7))
    }
    return sum / n
  })
}

/** A − B: through this process's clock (bounded by evaluate round trips) and through the system clock (to ~0.05 ms). */
async function skew(a: Page, b: Page): Promise<{ skewMs: number; boundMs: number; viaSystemClockMs: number }> {
  const [oa, ob] = [await clockOffset(a), await clockOffset(b)]
  const viaSystemClockMs = (await offsetFromSystemClock(a)) - (await offsetFromSystemClock(b))
  return { skewMs: oa.offsetMs - ob.offsetMs, boundMs: oa.uncertaintyMs + ob.uncertaintyMs, viaSystemClockMs }
}

async function openPage(browser: Awaited<ReturnType<typeof launchChromium>>, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`))
  // tsx (esbuild keepNames) wraps named functions in __name(); functions passed to evaluate need it in the page.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f' })
  await page.goto(url)
  await page.waitForFunction(() => window.__world?.snapshot().peerState === 'joined', null, { timeout: 60_000 })
  return page
}

/** Starts (afresh) recording how late a 5 ms interval runs on the page's main thread. */
function watchStalls(page: Page): Promise<void> {
  return page.evaluate(() => {
    const w = window as unknown as { __stalls?: { timer: number; lateMs: number[] } }
    if (w.__stalls !== undefined) clearInterval(w.__stalls.timer)
    let last = performance.now()
    const lateMs: number[] = []
    const timer = window.setInterval(() => {
      const now = performance.now()
      if (lateMs.length < 100_000) lateMs.push(Math.max(0, now - last - 5))
      last = now
    }, 5)
    w.__stalls = { timer, lateMs }
  })
}

const takeStalls = (page: Page): Promise<number[]> => page.evaluate(() => (window as unknown as { __stalls: { lateMs: number[] } }).__stalls.lateMs.splice(0))

const snap = (p: Page) => p.evaluate(() => window.__world!.snapshot())

/** Pairs A's sent moves with their first arrival in B (positions travel in hundredths). */
function pair(sent: Traced[], received: Traced[], from: string): { matched: number; latenciesMs: number[] } {
  const key = (m: Traced): string => `${Math.round(m.x * 100)},${Math.round(m.y * 100)}`
  const byKey = new Map<string, number[]>()
  for (const m of sent) byKey.set(key(m), [...(byKey.get(key(m)) ?? []), m.t])
  const used = new Set<string>()
  const latenciesMs: number[] = []
  for (const r of received) {
    if (r.id !== from) continue
    // The latest send of this position before it arrived; a repeat of an answered one (VON resync) is skipped.
    const times = (byKey.get(key(r)) ?? []).filter((t) => t <= r.t + 1)
    if (times.length === 0) continue
    const t = Math.max(...times)
    const k = `${key(r)}@${t}`
    if (used.has(k)) continue
    used.add(k)
    latenciesMs.push(r.t - t)
  }
  return { matched: latenciesMs.length, latenciesMs }
}

interface FetchLoops {
  stop: boolean
  running: number
  fetched: number
  failed: number
  spans: [number, number][]
  errors: string[]
}

/** Starts `fetchers` loops in B, each fetching A's assets back to back (forgetting each after, so the next fetch moves it again). */
async function startFetching(b: Page, ids: readonly string[], from: string): Promise<void> {
  await b.evaluate(([ids, from, fetchers]) => {
    const state = { stop: false, running: 0, fetched: 0, failed: 0, spans: [] as [number, number][], errors: [] as string[] }
    ;(window as unknown as { __bench: typeof state }).__bench = state
    const now = (): number => performance.timeOrigin + performance.now()
    const loop = async (k: number): Promise<void> => {
      state.running++
      for (let i = k; !state.stop; i += fetchers) {
        const id = ids[i % ids.length]!
        window.__world!.forgetAsset(id)
        const t0 = now()
        try {
          await window.__world!.fetchAsset(id, from)
          state.fetched++
        } catch (err) {
          state.failed++
          if (state.errors.length < 5) state.errors.push(String(err))
          await new Promise((r) => setTimeout(r, 200))
        }
        state.spans.push([t0, now()])
        window.__world!.forgetAsset(id)
      }
      state.running--
    }
    for (let k = 0; k < fetchers; k++) void loop(k)
  }, [ids, from, fetchers] as const)
  await b.waitForFunction(() => (window as unknown as { __bench: FetchLoops }).__bench.fetched > 0, null, { timeout: 60_000 })
}

/** Stops B's fetch loops, waits for them to finish and the link to drain; returns what they did. */
async function stopFetching(b: Page): Promise<FetchLoops> {
  const st = await b.evaluate(() => {
    const s = (window as unknown as { __bench: FetchLoops }).__bench
    s.stop = true
    return s
  })
  if (st.errors.length > 0) console.error(`fetch errors: ${st.errors.join('; ')}`)
  await b.waitForFunction(() => (window as unknown as { __bench: FetchLoops }).__bench.running === 0, null, { timeout: 90_000 })
  await b.waitForTimeout(1000)
  return st
}

/** How long RTCDataChannel.send blocked the main thread, by message size. */
interface SendTimes {
  small: { count: number; totalMs: number; maxMs: number }
  large: { count: number; totalMs: number; maxMs: number }
}

/** Wraps RTCDataChannel.prototype.send in the page to time each call (sends under 1 KiB are "small"). */
function timeSends(page: Page): Promise<void> {
  return page.evaluate(() => {
    const w = window as unknown as { __sends?: SendTimes; __rawSend?: RTCDataChannel['send'] }
    w.__sends = { small: { count: 0, totalMs: 0, maxMs: 0 }, large: { count: 0, totalMs: 0, maxMs: 0 } }
    const raw = (w.__rawSend ??= RTCDataChannel.prototype.send)
    RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
      const t0 = performance.now()
      raw.call(this, data)
      const ms = performance.now() - t0
      const size = (data as { byteLength?: number }).byteLength ?? 0
      const s = w.__sends![size < 1024 ? 'small' : 'large']
      s.count++
      s.totalMs += ms
      s.maxMs = Math.max(s.maxMs, ms)
    }
  })
}

function takeSendTimes(page: Page): Promise<SendTimes> {
  return page.evaluate(() => {
    const w = window as unknown as { __sends: SendTimes; __rawSend: RTCDataChannel['send'] }
    RTCDataChannel.prototype.send = w.__rawSend
    return w.__sends
  })
}

// What `npm start` runs, in this process: the client (built when stale) and a signaling node on one free port.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
await ensureClientBuilt(ROOT, { log: (line) => console.log(line) })
const server = await startWorldServer(stdoutLog('warn', 'signaling'), { root: ROOT })
const browser = await launchChromium()
const url = `${server.url}?headless=1&world=move-latency`
const phases: Phase[] = []
/** The machine's 1-minute load average at the start and end: the benchmark shares it with whatever else runs. */
const load = { start: loadavg()[0]!, end: NaN }
let linkA: LinkInfo | undefined
let profileB: ProfileEntry[] | undefined
let sendsA: SendTimes | undefined
let sendsB: SendTimes | undefined
let profileRate = 0
let clock: { before: Awaited<ReturnType<typeof skew>>; after: Awaited<ReturnType<typeof skew>> } | undefined
try {
  const a = await openPage(browser, url)
  const b = await openPage(browser, url)
  const namesB = args.has('profile') ? await sourceMapsOf(b) : undefined
  const [sa, sb] = [await snap(a), await snap(b)]
  // Meet in the middle, then A paces back and forth 100 units beside B (well inside the AOI).
  const cx = Math.round((sa.x + sb.x) / 2)
  const cy = Math.round((sa.y + sb.y) / 2)
  await a.evaluate(([x, y]) => window.__world!.move(x!, y!), [cx - 50, cy])
  await b.evaluate(([x, y]) => window.__world!.move(x!, y!), [cx, cy + 60])
  await b.waitForFunction(([id, x, y]) => {
    const s = window.__world!.snapshot()
    const n = s.neighbours.find((p) => p.id === id)
    return Math.hypot(s.x - (x as number), s.y - (y as number)) < 1 && n !== undefined && n.linkOpen && Math.hypot(n.x - s.x, n.y - s.y) < s.aoi
  }, [sa.id, cx, cy + 60] as const, { timeout: 60_000, polling: 250 })
  await a.evaluate(([x, y]) => {
    let leg = 0
    // A new target every second, before the last is reached: A never stops, so every step is a new position.
    setInterval(() => window.__world!.move(x! + (leg++ % 2 === 0 ? 50 : -50) + Math.random(), y! + Math.random()), 1000)
  }, [cx, cy])
  await a.waitForTimeout(3000)
  clock = { before: await skew(a, b), after: { skewMs: NaN, boundMs: NaN, viaSystemClockMs: NaN } }

  const ids: string[] = []
  for (let i = 0; i < 2 * fetchers; i++) {
    const id = await a.evaluate((size) => {
      const bytes = new Uint8Array(size)
      for (let o = 0; o < size; o += 65536) crypto.getRandomValues(bytes.subarray(o, Math.min(size, o + 65536)))
      return window.__world!.publishAsset(bytes)
    }, ASSET_BYTES)
    if (id === undefined) throw new Error('page A runs no asset service')
    ids.push(id)
  }

  const schedule = Array.from({ length: rounds }, () => ['idle', 'avatar transfer'] as const).flat()
  for (const name of schedule) {
    const loaded = name !== 'idle'
    if (loaded) await startFetching(b, ids, sa.id)
    const bytes0 = await b.evaluate((id) => window.__world!.linkTraffic(id).bytesReceived, sa.id)
    const t0 = wall()
    await Promise.all([watchStalls(a), watchStalls(b)])
    await a.evaluate(() => window.__world!.traceMoves(true))
    await b.evaluate(() => window.__world!.traceMoves(true))
    await a.waitForTimeout(seconds * 1000)
    const ta = await a.evaluate(() => window.__world!.takeMoveTrace())
    const tb = await b.evaluate(() => window.__world!.takeMoveTrace())
    const [stallsA, stallsB] = [await takeStalls(a), await takeStalls(b)]
    const t1 = wall()
    const bytes1 = await b.evaluate((id) => window.__world!.linkTraffic(id).bytesReceived, sa.id)
    let busy = 0
    let fetched = 0
    let fetchFailed = 0
    if (loaded) {
      const st = await stopFetching(b)
      // Running fetches cover the window at least this much (spans of the parallel loops merged).
      const spans = st.spans.map(([s, e]) => [Math.max(s, t0), Math.min(e, t1)] as const).filter(([s, e]) => e > s).sort((x, y) => x[0] - y[0])
      let end = t0
      for (const [s, e] of spans) {
        busy += Math.max(0, e - Math.max(s, end))
        end = Math.max(end, e)
      }
      busy /= t1 - t0
      fetched = st.fetched
      fetchFailed = st.failed
    }
    const { matched, latenciesMs } = pair(ta.sent, tb.received, sa.id)
    const sB = await snap(b)
    const rtt = (await b.evaluate((id) => window.__world!.linkInfo(id), sa.id))?.rtt
    phases.push({
      name, stallsA, stallsB, sent: ta.sent.length, matched, latenciesMs, bytesFromA: bytes1 - bytes0, transferBusy: busy, fetched, fetchFailed,
      hud: sB.moveLatency, rttToA: rtt === undefined ? undefined : { srttMs: rtt.srttMs, samples: rtt.samples, recentMs: rtt.recentMs },
    })
  }
  clock.after = await skew(a, b)
  if (args.has('profile')) {
    // After the measured phases (the profiler slows the page): where B's main thread goes while fetching.
    await startFetching(b, ids, sa.id)
    const bytes0 = await b.evaluate((id) => window.__world!.linkTraffic(id).bytesReceived, sa.id)
    await Promise.all([timeSends(a), timeSends(b)])
    profileB = await profilePage(b, () => b.waitForTimeout(seconds * 1000), namesB, 20)
    sendsA = await takeSendTimes(a)
    sendsB = await takeSendTimes(b)
    const bytes1 = await b.evaluate((id) => window.__world!.linkTraffic(id).bytesReceived, sa.id)
    profileRate = (bytes1 - bytes0) / seconds
    await stopFetching(b)
  }
  linkA = await a.evaluate((id) => window.__world!.linkInfo(id), sb.id)
} finally {
  await browser.close()
  await server.stop()
}

load.end = loadavg()[0]!
const when = new Date().toISOString()
const where = await machine()
const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—')
/** The phases of one name, over every round, as one. */
function merged(name: string, list: readonly Phase[]): Phase {
  const ps = list.filter((p) => p.name === name)
  const cat = <K extends 'latenciesMs' | 'stallsA' | 'stallsB'>(k: K): number[] => ps.flatMap((p) => p[k])
  const sum = (k: 'sent' | 'matched' | 'bytesFromA' | 'fetched' | 'fetchFailed'): number => ps.reduce((n, p) => n + p[k], 0)
  return {
    name: `${name} (${ps.length} x ${seconds} s)`, latenciesMs: cat('latenciesMs'), stallsA: cat('stallsA'), stallsB: cat('stallsB'),
    sent: sum('sent'), matched: sum('matched'), bytesFromA: sum('bytesFromA'), fetched: sum('fetched'), fetchFailed: sum('fetchFailed'),
    transferBusy: ps.reduce((n, p) => n + p.transferBusy, 0) / Math.max(1, ps.length), hud: ps[ps.length - 1]?.hud ?? null, rttToA: ps[ps.length - 1]?.rttToA,
  }
}
const summary = ['idle', 'avatar transfer'].map((n) => merged(n, phases))
const rows = (list: readonly Phase[]): (string | number)[][] => list.map((p) => {
  const l = p.latenciesMs
  return [
    p.name, p.sent, p.matched, fmt(percentile(l, 50)), fmt(percentile(l, 95)), fmt(percentile(l, 99)), fmt(Math.max(...l)),
    p.hud === null ? '—' : `${fmt(p.hud.p50Ms)} / ${fmt(p.hud.p95Ms)}`, `${fmt(percentile(p.stallsA, 99))} / ${fmt(percentile(p.stallsB, 99))}`,
    (p.bytesFromA / 2 ** 20).toFixed(1), p.fetched, `${(100 * p.transferBusy).toFixed(0)}%`,
  ]
})
const headers = ['phase', 'moves sent', 'arrived', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'HUD p50 / p95 ms', 'stall p99 A / B ms', 'MiB A->B', 'fetches', 'transfer busy']
console.log(`move latency A -> B through the page, headless Chromium, 2 pages, ${rounds} rounds of ${seconds} s idle + ${seconds} s transfer, ${fetchers} parallel fetches of ${ASSET_BYTES / 1024} KiB assets · ${when} · ${where} · load average ${load.start.toFixed(1)} at the start, ${load.end.toFixed(1)} at the end`)
console.log(formatTable(headers, rows(summary)))
console.log('\nper phase:')
console.log(formatTable(headers, rows(phases)))
const [idle, loaded] = summary
if (idle !== undefined && loaded !== undefined) {
  const d = percentile(loaded.latenciesMs, 99) - percentile(idle.latenciesMs, 99)
  const perRound = Array.from({ length: rounds }, (_, r) => percentile(phases[2 * r + 1]?.latenciesMs ?? [], 99) - percentile(phases[2 * r]?.latenciesMs ?? [], 99))
  console.log(`\nper round, transfer p99 − idle p99: ${perRound.map((x) => x.toFixed(1)).join(', ')} ms (median ${percentile(perRound, 50).toFixed(1)})`)
  console.log(`p99 under transfer − idle p99: ${d >= 0 ? '+' : ''}${d.toFixed(1)} ms (goal ≤ +20 ms) · ${(loaded.bytesFromA / 2 ** 20 / (rounds * seconds)).toFixed(2)} MiB/s from A during the transfer phase, ${loaded.fetchFailed} fetches failed`)
}
if (linkA !== undefined) {
  const r = linkA.rateBytesPerSec
  console.log(`A's link to B: longest wait in A's scheduler HIGH ${fmt(linkA.maxWaitMs[0]!)} / MEDIUM ${fmt(linkA.maxWaitMs[1]!)} / LOW ${fmt(linkA.maxWaitMs[2]!)} ms; ` +
    `measured rate ${r === undefined ? '—' : `${(r / 2 ** 20).toFixed(1)} MiB/s`}, buffer threshold ${linkA.bufferThreshold} B, fragments ${linkA.fragmentBytes} B`)
}
if (clock !== undefined) {
  const c = (x: Awaited<ReturnType<typeof skew>>): string => `${x.skewMs.toFixed(3)} ms ± ${x.boundMs.toFixed(3)} via Node, ${x.viaSystemClockMs.toFixed(3)} ms via Date.now()`
  console.log(`page clocks A − B (timeOrigin + now): before ${c(clock.before)}; after ${c(clock.after)}`)
}
if (profileB !== undefined) {
  console.log(`\nCPU profile of B's main thread over ${seconds} s of fetching (${(profileRate / 2 ** 20).toFixed(2)} MiB/s from A), self time:`)
  console.log(formatTable(['function', 'self ms', 'share'], profileB.map((e) => [e.name, e.selfMs.toFixed(0), `${(100 * e.share).toFixed(1)}%`])))
  const row = (who: string, t: SendTimes | undefined): (string | number)[][] => t === undefined ? [] : (['small', 'large'] as const).map((k) => [
    `${who} ${k === 'small' ? '< 1 KiB' : '>= 1 KiB'}`, t[k].count, fmt(t[k].count / seconds), fmt(t[k].totalMs), t[k].count === 0 ? '—' : (t[k].totalMs / t[k].count).toFixed(3), fmt(t[k].maxMs),
  ])
  console.log(`\nRTCDataChannel.send over the same ${seconds} s (timed around each call, profiler running):`)
  console.log(formatTable(['page, message size', 'sends', 'per s', 'total ms', 'mean ms', 'max ms'], [...row('A', sendsA), ...row('B', sendsB)]))
}
writeJson(args.get('json'), {
  when, machine: where, load, seconds, rounds, fetchers, assetBytes: ASSET_BYTES, clock, linkA, profileB, sendsA, sendsB,
  phases: [...summary, ...phases].map(({ latenciesMs, stallsA, stallsB, ...p }) => ({
    ...p, stallP99MsA: percentile(stallsA, 99), stallP99MsB: percentile(stallsB, 99), p50Ms: percentile(latenciesMs, 50), p95Ms: percentile(latenciesMs, 95), p99Ms: percentile(latenciesMs, 99), maxMs: Math.max(...latenciesMs), latenciesMs,
  })),
})
