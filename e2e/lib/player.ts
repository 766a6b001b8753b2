import type { BrowserContext, Page } from 'playwright-core'
import { encodeValue } from '../../src/core/codec.js'
import { POSITION_KEY } from '../../src/peer/saved-position.js'
import type { WorldSnapshot } from '../../src/ui/test-hook.js'

/** How a page joins: which world, where, rendered or not, through which node. */
export interface PlayerOptions {
  /** `?world=`: each test (or bot run) its own room, so runs never meet. */
  world?: string
  /** Start here instead of a random spot (written where a reload would find it). */
  at?: { x: number; y: number }
  /** `?headless=1`: no Phaser, the same logic (bots). @default true */
  headless?: boolean
  /** `?signaling=`: another node than the page's origin. */
  signaling?: string
  /** `?dht=0`: run without the DHT (whose table links every peer of a small world). @default true */
  dht?: boolean
  /** `?log=`: the page's console log level. @default the page's own (warn when headless) */
  log?: string
  /** `?ice=`: ICE servers instead of the node's (none, node, STUN URLs, JSON). */
  ice?: string
  /** `?relay=1`: links through TURN only. */
  relay?: boolean
  /** How long to wait for `window.__world`. @default 30000 */
  readyTimeoutMs?: number
}

/** The page's URL for these options. */
export function playerUrl(base: string, opts: PlayerOptions): string {
  const u = new URL(base)
  if (opts.world !== undefined) u.searchParams.set('world', opts.world)
  if (opts.headless ?? true) u.searchParams.set('headless', '1')
  if (opts.signaling !== undefined) u.searchParams.set('signaling', opts.signaling)
  if (opts.dht === false) u.searchParams.set('dht', '0')
  if (opts.log !== undefined) u.searchParams.set('log', opts.log)
  if (opts.ice !== undefined) u.searchParams.set('ice', opts.ice)
  if (opts.relay === true) u.searchParams.set('relay', '1')
  return u.toString()
}

/**
 * Writes a start position into the context's IndexedDB, where the page keeps the
 * position it restores on a reload (IdbStore 'p2p-world'/'kv', key of tab slot 0).
 * Done from a static file of the same origin, so no peer starts meanwhile.
 * The page has no `?at=` parameter; this is its reload path, used deliberately.
 */
export async function seedPosition(page: Page, base: string, x: number, y: number): Promise<void> {
  await seedStore(page, base, `tab0/${POSITION_KEY}`, [...encodeValue([x, y])])
}

/** Writes one entry of the page's store (IndexedDB 'p2p-world'/'kv') from a static file of `base`'s origin. */
export async function seedStore(page: Page, base: string, key: string, bytes: number[]): Promise<void> {
  await page.goto(new URL('favicon.svg', base).toString())
  await page.evaluate(async ({ key, bytes }) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('p2p-world')
      req.onupgradeneeded = () => req.result.createObjectStore('kv')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite')
      tx.objectStore('kv').put(new Uint8Array(bytes), key)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    db.close()
  }, { key, bytes })
}

/** Reads one entry of the store of `page`'s origin; undefined when absent. */
export async function readStore(page: Page, key: string): Promise<number[] | undefined> {
  return page.evaluate(async (key) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('p2p-world')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    const value = await new Promise<unknown>((resolve, reject) => {
      const req = db.transaction('kv', 'readonly').objectStore('kv').get(key)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    db.close()
    return value instanceof Uint8Array ? [...value] : undefined
  }, key)
}

/** Opens a player in `context` (a context is one browser profile: one identity). */
export async function openPlayer(context: BrowserContext, base: string, opts: PlayerOptions = {}): Promise<Page> {
  if (opts.at !== undefined) {
    // A page of its own, closed after: navigating away would keep it alive in the back-forward cache.
    const seeder = await context.newPage()
    await seedPosition(seeder, base, opts.at.x, opts.at.y)
    await seeder.close()
  }
  const page = await context.newPage()
  await page.goto(playerUrl(base, opts))
  await waitReady(page, opts.readyTimeoutMs)
  return page
}

export async function waitReady(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(() => window.__world?.ready === true, null, { timeout: timeoutMs })
}

export function snapshot(page: Page): Promise<WorldSnapshot> {
  return page.evaluate(() => window.__world!.snapshot())
}

/**
 * Polls `cond` on the page's snapshot until it holds; throws with `what(last)`
 * after `timeoutMs`. Polling from Node keeps predicates ordinary closures.
 */
export async function until(page: Page, cond: (s: WorldSnapshot) => boolean, timeoutMs: number, what: (s: WorldSnapshot) => string = () => ''): Promise<WorldSnapshot> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await snapshot(page)
    if (cond(s)) return s
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what(s)} (peer ${s.peerState}, signaling ${s.signaling}, problem ${s.problem ?? '-'})`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Asks the page to walk to (x, y) (as a click would) and waits until it is there. */
export async function walkTo(page: Page, x: number, y: number, timeoutMs = 60_000): Promise<WorldSnapshot> {
  await page.evaluate(([x, y]) => window.__world!.move(x, y), [x, y] as const)
  return until(page, (s) => Math.hypot(s.x - x, s.y - y) < 0.5, timeoutMs, (s) => `at ${s.x.toFixed(1)},${s.y.toFixed(1)}, not ${x},${y}`)
}
