/**
 * How long a player waits to see another one: from navigation to the first
 * neighbour drawn, broken into the join's phases (src/ui/join-timeline.ts), for
 * a fresh join beside one player, the same page reloaded, and a join into a
 * world of N headless bots. Pages of the game in the system's Chromium against
 * `npm start` on loopback; the joining page renders, the others are headless.
 *   npm run bench:join -- [--trials 10] [--bots 20] [--json FILE]
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { JOIN_PHASES, type JoinPhase } from '../src/ui/join-timeline.js'
import { machine, parseArgs, writeJson } from './lib/args.js'
import { launchChromium, startServer } from './lib/browser.js'
import { percentile } from './lib/stats.js'
import { formatTable } from './lib/table.js'
import { openPlayer } from '../e2e/lib/player.js'

type Marks = Partial<Record<JoinPhase, number>>
const DRAWN_WAIT_MS = 30_000
const CENTRE = { x: 1000, y: 1000 }

const args = parseArgs(process.argv.slice(2))
const trials = Number(args.get('trials') ?? '10')
const botCount = Number(args.get('bots') ?? '20')
if (!Number.isInteger(trials) || trials < 1 || trials > 100) throw new Error('--trials must be an integer in [1, 100]')
if (!Number.isInteger(botCount) || botCount < 1 || botCount > 60) throw new Error('--bots must be an integer in [1, 60]')

/** The joining page's timeline once it drew a neighbour; throws after DRAWN_WAIT_MS. */
async function untilDrawn(page: Page): Promise<Marks> {
  const end = Date.now() + DRAWN_WAIT_MS
  for (;;) {
    const marks = await page.evaluate(() => window.__world?.joinTimeline() ?? {}).catch(() => ({}) as Marks)
    if (marks['first-drawn'] !== undefined) return marks
    if (Date.now() > end) throw new Error(`no neighbour drawn within ${DRAWN_WAIT_MS} ms: ${JSON.stringify(marks)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function joined(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__world?.snapshot().peerState === 'joined', null, { timeout: DRAWN_WAIT_MS })
}

/** A rendered page entering `world` at (x, y); its timeline once it drew a neighbour. */
async function enter(browser: Browser, url: string, world: string, at: { x: number; y: number }): Promise<{ context: BrowserContext; page: Page; marks: Marks }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  if (process.env.JOIN_DEBUG !== undefined) context.on('console', (m) => console.log(`[joiner] ${m.text().slice(0, 200)}`))
  const page = await openPlayer(context, url, { world, at, headless: false, ...(process.env.JOIN_DEBUG !== undefined ? { log: 'debug' } : {}) })
  return { context, page, marks: await untilDrawn(page) }
}

async function main(): Promise<void> {
  const server = await startServer()
  const browser = await launchChromium()
  const results: Record<string, Marks[]> = { fresh: [], reload: [], crowd: [] }
  const run = `${Date.now() % 1e6}`
  try {
    for (let i = 0; i < trials; i++) {
      const world = `join-${run}-${i}`
      const other = await browser.newContext()
      await joined(await openPlayer(other, server.url, { world, at: CENTRE }))
      const b = await enter(browser, server.url, world, { x: CENTRE.x + 60, y: CENTRE.y })
      results.fresh!.push(b.marks)
      await b.page.reload()
      results.reload!.push(await untilDrawn(b.page))
      await b.context.close()
      await other.close()
      process.stdout.write(`fresh and reload ${i + 1}/${trials}\r`)
    }
    const world = `join-${run}-crowd`
    const bots: BrowserContext[] = []
    for (let i = 0; i < botCount; i++) {
      const context = await browser.newContext()
      bots.push(context)
      // Spread over a disk of radius 180 around the centre (golden-angle spiral: even, and no two equidistant from it).
      const r = 180 * Math.sqrt((i + 0.5) / botCount)
      const a = i * 2.39996
      await joined(await openPlayer(context, server.url, { world, at: { x: CENTRE.x + r * Math.cos(a), y: CENTRE.y + r * Math.sin(a) } }))
    }
    for (let i = 0; i < trials; i++) {
      const b = await enter(browser, server.url, world, { x: CENTRE.x + 13 + 17 * i, y: CENTRE.y - 7 })
      results.crowd!.push(b.marks)
      await b.context.close()
      process.stdout.write(`crowd ${i + 1}/${trials}     \r`)
    }
    await Promise.all(bots.map((c) => c.close()))
  } finally {
    await browser.close()
    server.stop()
  }
  const rows = JOIN_PHASES.map((phase) => [phase, ...Object.values(results).flatMap((runs) => {
    const v = runs.map((m) => m[phase]).filter((x): x is number => x !== undefined)
    return [percentile(v, 50), percentile(v, 95)]
  })])
  console.log(`\nnpm run bench:join -- --trials ${trials} --bots ${botCount}  (${new Date().toISOString().slice(0, 10)}; ${await machine()})`)
  console.log('ms from navigation to each phase (first time it happened), p50 and p95 of the trials:')
  console.log(formatTable(['phase', 'fresh p50', 'fresh p95', 'reload p50', 'reload p95', `${botCount} bots p50`, `${botCount} bots p95`], rows))
  writeJson(args.get('json'), { date: new Date().toISOString(), machine: await machine(), trials, bots: botCount, results })
}

await main()
