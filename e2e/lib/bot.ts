import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import type { Point } from '../../src/sim/mobility.js'
import type { WorldSnapshot } from '../../src/ui/test-hook.js'
import { openPlayer } from './player.js'

/** Errors kept per bot (counts go on). */
const MAX_ERRORS_KEPT = 20

/** What a bot's page reports of itself (Chrome DevTools Performance domain). */
export interface PageCost {
  /** Main-thread task time of the page so far, seconds. */
  taskSeconds: number
  jsHeapMiB: number
}

/**
 * One bot: its own browser context (own IndexedDB and identity), one headless
 * page driven through `window.__world`, and what it saw.
 */
export class Bot {
  page: Page | undefined
  private context: BrowserContext | undefined
  private cdp: CDPSession | undefined
  last: WorldSnapshot | undefined
  openedAt: number | undefined
  joinedAt: number | undefined
  errors = 0
  readonly errorLog: string[] = []
  chatSent = 0
  /** Sums over summaries, for means. */
  samples = { n: 0, neighbours: 0, links: 0 }
  /** Move latency (ms) the page reported at each sample, if its hook exposes one. */
  readonly moveLatencyMs: number[] = []

  constructor(
    readonly index: number,
    readonly pos: Point,
  ) {}

  get label(): string {
    return `bot-${String(this.index).padStart(2, '0')}`
  }

  error(what: string): void {
    this.errors++
    if (this.errorLog.length < MAX_ERRORS_KEPT) this.errorLog.push(what)
  }

  async open(browser: Browser, url: string, world: string, ice?: string): Promise<void> {
    this.context = await browser.newContext()
    this.context.on('page', (p) => {
      p.on('pageerror', (err) => this.error(`page error: ${err.message}`))
      p.on('crash', () => this.error('page crashed'))
      p.on('console', (m) => {
        // The document that seeds the start position (an SVG file) asks for /favicon.ico.
        if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) this.error(`console: ${m.text().slice(0, 200)}`)
      })
    })
    this.page = await openPlayer(this.context, url, { world, at: { x: this.pos.x, y: this.pos.y }, readyTimeoutMs: 60_000, ...(ice === undefined ? {} : { ice }) })
    this.openedAt = Date.now()
    await this.page.evaluate((name) => window.__world!.setName(name), this.label)
    this.cdp = await this.context.newCDPSession(this.page)
    await this.cdp.send('Performance.enable')
  }

  /** Walks toward the mobility model's position (the page walks at the game's speed). */
  async steer(): Promise<void> {
    await this.page?.evaluate(([x, y]) => window.__world!.move(x, y), [this.pos.x, this.pos.y] as const)
  }

  async say(text: string): Promise<void> {
    if (this.page === undefined) return
    if (await this.page.evaluate((t) => window.__world!.chat(t), text)) this.chatSent++
  }

  /** Takes a snapshot; notes the join, neighbours, links and the move latency the hook reports. */
  async sample(): Promise<WorldSnapshot | undefined> {
    if (this.page === undefined) return undefined
    const s = await this.page.evaluate(() => window.__world!.snapshot())
    this.last = s
    if (this.joinedAt === undefined && s.peerState === 'joined') this.joinedAt = Date.now()
    if (this.joinedAt !== undefined) {
      this.samples.n++
      this.samples.neighbours += s.neighbours.filter((n) => Math.hypot(n.x - s.x, n.y - s.y) < s.aoi).length
      this.samples.links += s.links.open
    }
    // The page's own estimate (one-way, from its links' RTT), when its hook has one.
    const lat = (s as { moveLatency?: { p50Ms?: unknown } | null }).moveLatency?.p50Ms
    if (typeof lat === 'number' && Number.isFinite(lat)) this.moveLatencyMs.push(lat)
    return s
  }

  /** The page's task time and JS heap; with `gc`, the heap after a full collection (what is live, not what awaits collection). */
  async cost(gc = false): Promise<PageCost | undefined> {
    if (this.cdp === undefined) return undefined
    if (gc) await this.cdp.send('HeapProfiler.collectGarbage')
    const { metrics } = await this.cdp.send('Performance.getMetrics')
    const get = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN
    return { taskSeconds: get('TaskDuration'), jsHeapMiB: get('JSHeapUsedSize') / 2 ** 20 }
  }

  /** Lines heard from other players. */
  get chatHeard(): number {
    return this.last?.chat.filter((l) => !l.self).length ?? 0
  }

  async close(): Promise<void> {
    await this.context?.close().catch(() => {})
  }
}
