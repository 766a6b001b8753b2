/**
 * Headless bots: N Chromium pages (one shared browser, one context each, so each
 * bot has its own identity) join a world and walk by the simulator's mobility
 * models, steered through `window.__world`. A live summary on the terminal, a
 * final report with CPU and memory per bot (Chromium's process tree from /proc,
 * and each page's own task time and heap), exit status 1 on any error.
 *   npm run bots -- --count N [--url U] [--behaviour wander|cluster|follow|chat] [--seconds S]
 *                   [--world main] [--seed 1] [--ice none|node|URLS|JSON] [--json FILE]
 * Without --url, the client and a signaling node are served in this process on a
 * free 127.0.0.1 port.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../bench/lib/browser.js'
import { machine, parseArgs, writeJson } from '../bench/lib/args.js'
import { ensureClientBuilt } from '../signaling/client-build.js'
import { startWorldServer, type WorldServer } from '../signaling/world-server.js'
import { SILENT_LOG } from '../src/core/env.js'
import { parseIceOverride } from '../src/platform/ice-servers.js'
import { DEFAULT_WORLD } from '../src/peer/world-area.js'
import { SeededRng } from '../src/sim/rng.js'
import { Bot } from './lib/bot.js'
import { finalReport, summaryLine, type RunFacts } from './lib/bot-report.js'
import { BEHAVIOURS, botMobility, STEPS_PER_SEC, type Behaviour } from './lib/behaviours.js'
import { processTree, TreeCpu, type ProcInfo } from './lib/proc-tree.js'

const USAGE = 'usage: npm run bots -- --count N [--url U] [--behaviour wander|cluster|follow|chat] [--seconds S] [--world main] [--seed 1] [--ice none|node|URLS|JSON] [--json FILE]'
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const AOI = 200
const STEER_EVERY_MS = 500
const SAMPLE_EVERY_MS = 2000
const PROC_EVERY_MS = 10_000
const CHAT_MEAN_MS = 15_000
const MAX_BOTS = 200

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`)
  process.exit(2)
}

let args: Map<string, string>
try {
  args = parseArgs(process.argv.slice(2))
} catch (err) {
  fail((err as Error).message)
}
if (args.has('help')) {
  process.stdout.write(`${USAGE}

Headless Chromium pages of the game join a world and walk by the simulator's mobility models;
a live summary, then a report with CPU and memory per bot. Exit status 1 on any error.

  --count N        bots to open, one after another (1-${MAX_BOTS}; default 5)
  --url U          the game's address (default: serve the client and a node here, on a free port)
  --behaviour B    wander (random waypoints), cluster (Gaussian hotspots, about ten bots each),
                   follow (trail bot 0), chat (cluster, and say a line every ~15 s); default wander
  --seconds S      how long to run once the last bot opened (default 60)
  --world W        the world (room) to join (default main)
  --seed X         seed of the mobility models (default 1)
  --ice V          ICE servers for the pages instead of the node's: none, node, STUN URLs or JSON
  --json FILE      also write the report as JSON
`)
  process.exit(0)
}
const count = Number(args.get('count') ?? '5')
const seconds = Number(args.get('seconds') ?? '60')
const behaviour = (args.get('behaviour') ?? 'wander') as Behaviour
const world = args.get('world') ?? 'main'
const seed = args.get('seed') ?? '1'
if (!Number.isInteger(count) || count < 1 || count > MAX_BOTS) fail(`--count must be an integer in [1, ${MAX_BOTS}]`)
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) fail('--seconds must be in (0, 86400]')
if (!BEHAVIOURS.includes(behaviour)) fail(`--behaviour must be one of ${BEHAVIOURS.join(', ')}`)
const ice = args.get('ice')
const iceParsed = ice === undefined ? 'node' : parseIceOverride(ice)
if (iceParsed !== 'node' && !Array.isArray(iceParsed)) fail(`--${iceParsed.error}`)

let server: WorldServer | undefined
let url = args.get('url')
if (url === undefined) {
  await ensureClientBuilt(ROOT, { log: (line) => process.stdout.write(`${line}\n`) })
  server = await startWorldServer(SILENT_LOG, { root: ROOT })
  url = server.url
}
const rng = new SeededRng(seed, `bots/${behaviour}`)
const mobility = botMobility(behaviour, count, DEFAULT_WORLD, AOI, rng)
const bots = Array.from({ length: count }, (_, i) => new Bot(i, mobility.place(i)))
const facts: RunFacts = {
  command: `npm run bots -- ${process.argv.slice(2).join(' ')}`, url, world, behaviour, count, seconds, seed,
  startedAt: new Date().toISOString(), machine: await machine(),
}
process.stdout.write(`${count} bots (${behaviour}) -> ${url} world "${world}" for ${seconds} s after the last one opens\n`)

let stopping = false
process.on('SIGINT', () => {
  if (stopping) process.exit(1)
  stopping = true
  process.stdout.write('\nstopping (Ctrl-C again to quit at once)\n')
})

// Ctrl-C stops the run and still prints the report: Playwright must not close the browser on SIGINT.
const browser: Browser = await launchChromium({ handleSIGINT: false })
const launchedAt = Date.now()
const cpu = new TreeCpu()
const memory = { samples: 0, pssSum: 0, rssSum: 0, pssPeak: 0, rssPeak: 0, renderers: 0 }
let lastTree: ProcInfo[] = []
const sampleTree = (baseline = false): void => {
  lastTree = processTree(process.pid)
  cpu.add(lastTree, baseline)
  if (baseline) return
  const pss = lastTree.reduce((s, p) => s + (p.pssMiB ?? p.rssMiB), 0)
  const rss = lastTree.reduce((s, p) => s + p.rssMiB, 0)
  memory.samples++
  memory.pssSum += pss
  memory.rssSum += rss
  memory.pssPeak = Math.max(memory.pssPeak, pss)
  memory.rssPeak = Math.max(memory.rssPeak, rss)
  memory.renderers = Math.max(memory.renderers, lastTree.filter((p) => p.kind === 'renderer').length)
}

sampleTree(true)

// Bots open one after another (a burst of joins would measure the burst).
let opened = 0
const opening = (async () => {
  for (const b of bots) {
    if (stopping) break
    try {
      await b.open(browser, url, world, ice)
    } catch (err) {
      b.error(`cannot open: ${(err as Error).message.split('\n')[0]}`)
    }
    opened++
  }
})()

const t0 = Date.now()
let measureFrom: number | undefined
let costAtStart = new Map<number, number>()
let nextSample = 0
let nextProc = 0
const nextChat = bots.map(() => Date.now() + rng.exponential(CHAT_MEAN_MS))
const stepsPerSteer = Math.round((STEER_EVERY_MS / 1000) * STEPS_PER_SEC)
const tty = process.stdout.isTTY === true
let lastPrinted = 0

while (!stopping) {
  const now = Date.now()
  if (measureFrom === undefined && opened === count) {
    measureFrom = now
    sampleTree(true)
    costAtStart = new Map(await Promise.all(bots.map(async (b) => [b.index, (await b.cost().catch(() => undefined))?.taskSeconds ?? 0] as const)))
  }
  if (measureFrom !== undefined && now - measureFrom >= seconds * 1000) break
  for (const b of bots) {
    if (b.page === undefined) continue
    for (let k = 0; k < stepsPerSteer; k++) mobility.step(b.index, b.pos)
    await b.steer().catch((err: Error) => b.error(`steer: ${err.message.split('\n')[0]}`))
    if (behaviour === 'chat' && now >= nextChat[b.index]!) {
      nextChat[b.index] = now + rng.exponential(CHAT_MEAN_MS)
      await b.say(`${b.label} says hello #${b.chatSent + 1}`).catch((err: Error) => b.error(`chat: ${err.message.split('\n')[0]}`))
    }
  }
  if (now >= nextSample) {
    nextSample = now + SAMPLE_EVERY_MS
    for (const b of bots) await b.sample().catch((err: Error) => b.error(`snapshot: ${err.message.split('\n')[0]}`))
    const line = summaryLine(bots, (now - t0) / 1000, opened)
    if (tty) process.stdout.write(`\r\x1b[2K${line}`)
    else if (now - lastPrinted >= 10_000) {
      lastPrinted = now
      process.stdout.write(`${line}\n`)
    }
  }
  if (measureFrom !== undefined && now >= nextProc) {
    nextProc = now + PROC_EVERY_MS
    sampleTree()
  }
  await new Promise((r) => setTimeout(r, Math.max(0, STEER_EVERY_MS - (Date.now() - now))))
}
if (tty) process.stdout.write('\n')
stopping = true
await opening

sampleTree()
for (const b of bots) await b.sample().catch((err: Error) => b.error(`snapshot: ${err.message.split('\n')[0]}`))
const wallSeconds = (Date.now() - (measureFrom ?? launchedAt)) / 1000
const costs = await Promise.all(bots.map((b) => b.cost(true).catch(() => undefined)))
for (const b of bots) if (b.joinedAt === undefined && b.page !== undefined) b.error('never joined the world')
const report = finalReport(facts, bots, {
  wallSeconds,
  taskSeconds: costs.map((c, i) => (c === undefined ? NaN : c.taskSeconds - (costAtStart.get(i) ?? 0))),
  heapMiB: costs.map((c) => c?.jsHeapMiB ?? NaN),
  cpuByKind: Object.fromEntries(cpu.byKind),
  memory: {
    pssMeanMiB: memory.samples === 0 ? NaN : memory.pssSum / memory.samples,
    rssMeanMiB: memory.samples === 0 ? NaN : memory.rssSum / memory.samples,
    pssPeakMiB: memory.pssPeak,
    rssPeakMiB: memory.rssPeak,
    processes: lastTree.length,
    renderers: memory.renderers,
  },
})
process.stdout.write(`${report.text}\n`)
writeJson(args.get('json'), report.json)

await Promise.all(bots.map((b) => b.close()))
await browser.close()
await server?.stop()
process.exit(report.errors > 0 ? 1 : 0)
