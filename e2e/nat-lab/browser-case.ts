import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { MoveTraceData } from '../../src/ui/move-trace.js'
import type { WorldSnapshot } from '../../src/ui/test-hook.js'
import { openPlayer, snapshot } from '../lib/player.js'
import type { AgentClient, AgentEvent } from './agent-client.js'
import { expectation, type IceMode, type LabCase } from './expectations.js'
import type { NatKind } from './netns.js'

const OPEN_WAIT_MS = 25_000
/** The link layer gives up at 10 s and the page tells within a poll or two after. */
const PROBLEM_WAIT_MS = 30_000

export interface BrowserSide {
  host: string
  nat: NatKind
  browser: Browser
}

export interface BrowserCaseInit {
  a: BrowserSide
  b: BrowserSide
  mode: IceMode
  pageUrl: string
  stunUrl: string
  /** Render the game (Phaser, HUD, banner) in b's page rather than run it headless. */
  render: boolean
  /** Everything the pages showed or logged, for the lab's secret check. */
  sink: (text: string) => void
  /** One anchor in the world (a public Node peer that relays); `tamper`: it alters the frames it relays once the pages met. */
  anchor?: { agent: AgentClient; tamper: boolean }
}

/**
 * Two pages of the real game in two lab homes: a enters a world, b enters it
 * through the node and should (or should not) link to a. When linked, a walks
 * and chats and b must see both; when not, b's page must say why.
 */
export async function runBrowserCase(init: BrowserCaseInit): Promise<LabCase> {
  const { a, b, mode } = init
  const world = `lab-web-${a.host}-${b.host}-${mode.replace('+', '')}${init.anchor === undefined ? '' : init.anchor.tamper ? '-tamper' : '-anchor'}`
  const relay = mode === 'relay-only'
  const ice = mode === 'none' ? 'none' : mode === 'stun' ? init.stunUrl : undefined
  const base: LabCase = {
    client: `chromium${init.render ? ' (rendered)' : ''}${init.anchor === undefined ? '' : init.anchor.tamper ? ' + tampering anchor' : ' + anchor'}`,
    a: a.host, b: b.host, nats: `${a.nat}-${b.nat}`, ice: mode,
    // With an anchor, pages no hole punch can join meet through it (a circuit): peer-relay.
    expected: init.anchor === undefined ? expectation(a.nat, b.nat, mode) : { connect: true, paths: ['peer-relay'] },
    connected: false, openMs: undefined, path: undefined, pathOther: undefined, cause: undefined, detail: undefined, latencyMs: undefined, checks: [],
  }
  const contexts: BrowserContext[] = []
  const open = async (side: BrowserSide, x: number, headless: boolean): Promise<Page> => {
    const context = await side.browser.newContext({ ignoreHTTPSErrors: true })
    contexts.push(context)
    context.on('console', (m) => init.sink(m.text()))
    return openPlayer(context, init.pageUrl, { world, at: { x, y: 1000 }, headless, log: 'info', readyTimeoutMs: 60_000, relay, ...(ice === undefined ? {} : { ice }) })
  }
  const anchorKey = `anchor-${world}`
  try {
    if (init.anchor !== undefined) {
      init.anchor.agent.send({ cmd: 'peer', key: anchorKey, world, ice: ice === undefined ? 'node' : ice === 'none' ? [] : [{ urls: ice }], x: 1030, y: 1000, anchor: true })
      // A world's first peer joins as soon as the node answers (well under a second). Once, in CI, it did not
      // within 30 s, and the agent's words were not kept: now a slow join is said with them, and fails at 60 s.
      const joined = (e: AgentEvent): boolean => e.ev === 'joined' && e.key === anchorKey
      if ((await init.anchor.agent.next(joined, 30_000)) === undefined) {
        init.anchor.agent.send({ cmd: 'info', key: anchorKey })
        await init.anchor.agent.next((e) => e.ev === 'info' && e.key === anchorKey, 2000)
        console.log(`[nat-lab] the anchor has not joined in 30 s; it said: ${init.anchor.agent.said(anchorKey)}`)
        await init.anchor.agent.waitFor(joined, 30_000, 'anchor joined')
      }
    }
    const pa = await open(a, 1000, true)
    const sa = await poll(pa, (s) => s.peerState === 'joined', OPEN_WAIT_MS)
    const t0 = Date.now()
    const pb = await open(b, 1060, !init.render)
    // With an anchor, a first direct attempt may fail (and say so) before the circuit carries the link.
    const stopOnProblem = init.anchor === undefined
    const seen = await poll(pb, (s) => s.neighbours.some((n) => n.id === sa!.id && n.linkOpen && n.path !== undefined) || (stopOnProblem && s.problem === 'links-failing'), base.expected.connect ? OPEN_WAIT_MS : PROBLEM_WAIT_MS)
    const nb = seen?.neighbours.find((n) => n.id === sa!.id && n.linkOpen)
    if (seen === undefined || nb === undefined) {
      const s = seen ?? (await poll(pb, (x) => x.problem === 'links-failing', PROBLEM_WAIT_MS)) ?? (await snapshot(pb))
      const failed = s.failedLinks[s.failedLinks.length - 1]
      const out: LabCase = { ...base, cause: failed?.code ?? s.problem ?? 'no link', detail: failed?.detail }
      if (init.render) out.checks!.push(await bannerCheck(pb))
      init.sink(await pb.content())
      return out
    }
    const openMs = Date.now() - t0
    const other = (await poll(pa, (s) => s.neighbours.some((n) => n.id === seen.id && n.path !== undefined), 5000))?.neighbours.find((n) => n.id === seen.id)
    const detailOf = async (p: Page, id: string): Promise<string> => {
      const path = (await p.evaluate((peer) => window.__world!.linkInfo(peer)?.path, id))
      return path === undefined ? nb.path! : `${path.kind} (${path.local}/${path.remote}${path.rttMs === undefined ? '' : `, ICE RTT ${path.rttMs.toFixed(1)} ms`})`
    }
    const pathB = await detailOf(pb, sa!.id)
    const pathA = other === undefined ? undefined : await detailOf(pa, seen.id)
    const checks = [await chatCheck(pa, pb, a.host)]
    if (init.render) checks.push(await hudCheck(pb, nb.path!))
    const latencyMs = await walkLatency(pa, pb, sa!)
    if (init.anchor?.tamper === true) checks.push(await tamperCheck(pa, pb, sa!, init.anchor.agent, anchorKey))
    for (const p of [pa, pb]) init.sink(await p.content())
    return { ...base, connected: true, openMs, path: pathB, pathOther: pathA, latencyMs, checks }
  } finally {
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)))
    if (init.anchor !== undefined) init.anchor.agent.send({ cmd: 'close', key: anchorKey })
  }
}

/**
 * The anchor starts altering what it relays while a walks: the link must be
 * dropped and the tampering counted (the HUD's relays row), and every position
 * of a's that b took must be one a sent. The anchor alters frames both ways, so
 * either end may see an altered frame first and close the circuit before the
 * other sees one: the count is a's and b's together.
 */
async function tamperCheck(pa: Page, pb: Page, sa: WorldSnapshot, agent: AgentClient, key: string): Promise<{ name: string; ok: boolean; detail: string }> {
  await pa.evaluate(() => window.__world!.traceMoves(true))
  await pb.evaluate(() => window.__world!.traceMoves(true))
  agent.send({ cmd: 'tamper', key, on: true })
  await pa.evaluate(([x, y]) => window.__world!.move(x, y), [sa.x - 40, sa.y - 20] as const)
  const tamperedA = async (): Promise<number> => (await snapshot(pa)).relay.tampered
  let countA = 0
  const s = await poll(pb, async (x) => !x.neighbours.some((n) => n.id === sa.id && n.linkOpen) && x.relay.tampered + (countA = await tamperedA()) > 0, 15_000)
  const sent: MoveTraceData = await pa.evaluate(() => window.__world!.takeMoveTrace())
  const got: MoveTraceData = await pb.evaluate(() => window.__world!.takeMoveTrace())
  const at = (m: { x: number; y: number }): string => `${Math.round(m.x * 100)},${Math.round(m.y * 100)}`
  const real = new Set(sent.sent.map(at))
  // Positions a held before the trace started (its last one before the walk) are real too.
  const wrong = got.received.filter((g) => g.id === sa.id && !real.has(at(g)) && at(g) !== at(sa) && at(g) !== at({ x: sa.x + 40, y: sa.y + 20 }))
  const flipped = await agent.next((e) => e.ev === 'tampered' && e.key === key, 1000)
  const snap = s ?? (await snapshot(pb))
  const ok = s !== undefined && wrong.length === 0 && flipped !== undefined
  return {
    name: 'relay cannot alter a frame',
    ok,
    detail: `anchor ${flipped === undefined ? 'never altered a frame' : 'altered frames'}; b counted ${snap.relay.tampered} tampered and a ${countA}, link to a ${snap.neighbours.some((n) => n.id === sa.id && n.linkOpen) ? 'still open' : 'dropped'}; ${got.received.filter((g) => g.id === sa.id).length} positions of a taken, ${wrong.length} not sent by a`,
  }
}

/** The snapshot once `cond` holds, polled every 200 ms; undefined after `timeoutMs`. */
async function poll(page: Page, cond: (s: WorldSnapshot) => boolean | Promise<boolean>, timeoutMs: number): Promise<WorldSnapshot | undefined> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await snapshot(page)
    if (await cond(s)) return s
    if (Date.now() > end) return undefined
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function chatCheck(pa: Page, pb: Page, from: string): Promise<{ name: string; ok: boolean; detail: string }> {
  const text = `hello from ${from}`
  await pa.evaluate((t) => window.__world!.chat(t), text)
  const s = await poll(pb, (x) => x.chat.some((l) => l.text === text), 10_000)
  return { name: 'chat a to b', ok: s !== undefined, detail: s === undefined ? 'not heard within 10 s' : 'heard' }
}

/** The rendered page's HUD counts the link under its path kind. */
async function hudCheck(pb: Page, kind: string): Promise<{ name: string; ok: boolean; detail: string }> {
  const text = (await pb.locator('#hud-stats').textContent({ timeout: 5000 }).catch(() => null)) ?? ''
  const ok = text.includes(`1 ${kind}`)
  return { name: 'HUD shows the path', ok, detail: ok ? `"1 ${kind}"` : `HUD: ${text.slice(0, 300)}` }
}

/** The rendered page's banner says why no link opened (it redraws a few times a second). */
async function bannerCheck(pb: Page): Promise<{ name: string; ok: boolean; detail: string }> {
  const banner = pb.locator('#problem')
  const visible = await banner.waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false)
  const text = visible ? ((await pb.locator('#problem-text').textContent()) ?? '') : ''
  const ok = visible && /could not reach each other directly/.test(text)
  return { name: 'page says why', ok, detail: ok ? text.slice(0, 160) : `banner ${visible ? text : 'hidden'}` }
}

/** a walks a few units; b's arrivals are paired with the moves a's peer sent by position, on the shared wall clock. */
async function walkLatency(pa: Page, pb: Page, sa: WorldSnapshot): Promise<LabCase['latencyMs']> {
  await pa.evaluate(() => window.__world!.traceMoves(true))
  await pb.evaluate(() => window.__world!.traceMoves(true))
  // Two legs: each start and stop is a move neighbours cannot predict (the straight stretches are dead-reckoned).
  await pa.evaluate(([x, y]) => window.__world!.move(x, y), [sa.x + 40, sa.y] as const)
  await new Promise((r) => setTimeout(r, 1200))
  await pa.evaluate(([x, y]) => window.__world!.move(x, y), [sa.x + 40, sa.y + 20] as const)
  await new Promise((r) => setTimeout(r, 1300))
  const sent: MoveTraceData = await pa.evaluate(() => window.__world!.takeMoveTrace())
  const got: MoveTraceData = await pb.evaluate(() => window.__world!.takeMoveTrace())
  // Positions travel in hundredths of a unit.
  const at = (m: { x: number; y: number }): string => `${Math.round(m.x * 100)},${Math.round(m.y * 100)}`
  const delays: number[] = []
  for (const m of sent.sent) {
    const r = got.received.find((g) => g.id === sa.id && at(g) === at(m))
    if (r !== undefined) delays.push(r.t - m.t)
  }
  if (process.env.NAT_LAB_DEBUG !== undefined) console.log(`walk: sent ${sent.sent.length}, received ${got.received.length}, matched ${delays.length}; b: ${JSON.stringify((await snapshot(pb)).neighbours.map((n) => [n.id.slice(0, 6), n.linkOpen, n.path]))}; sent ${JSON.stringify(sent.sent)}; received ${JSON.stringify(got.received)}`)
  if (delays.length === 0) return { p50: NaN, max: NaN, n: 0, sent: sent.sent.length }
  delays.sort((u, v) => u - v)
  return { p50: delays[Math.floor(delays.length / 2)]!, max: delays[delays.length - 1]!, n: delays.length, sent: sent.sent.length }
}
