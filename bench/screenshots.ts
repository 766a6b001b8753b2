/**
 * Screenshots of the running game for README: `npm start` on a free port, two
 * players (two browser contexts, as two tabs of two people), close together,
 * named, one with a custom avatar, talking; one with the inspector open.
 * And a third player on a phone-sized touch screen (390 x 844) beside them.
 *   npm run screenshots -- [--out docs/images]
 */
import { launchChromium, startServer } from './lib/browser.js'
import { parseArgs } from './lib/args.js'
import { avatarPng } from './lib/png.js'

const args = parseArgs(process.argv.slice(2))
const out = args.get('out') ?? 'docs/images'

const server = await startServer()
const browser = await launchChromium()
try {
  const open = async (phone = false) => {
    const ctx = await browser.newContext(phone ? { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } : { viewport: { width: 1280, height: 800 } })
    const page = await ctx.newPage()
    await page.goto(server.url)
    await page.waitForFunction(() => window.__world?.ready === true, null, { timeout: 60_000 })
    return page
  }
  const a = await open()
  const b = await open()
  await a.evaluate(() => window.__world!.move(1000, 1000))
  await b.evaluate(() => window.__world!.move(1070, 1040))
  await a.evaluate(() => window.__world!.setName('alice'))
  await b.evaluate(() => window.__world!.setName('bob'))
  // Chat reaches the players in the AOI only: both walk to their spots first.
  for (const [page, x, y] of [[a, 1000, 1000], [b, 1070, 1040]] as const) {
    await page.waitForFunction(([x, y]) => {
      const s = window.__world!.snapshot()
      return s.x === x && s.y === y && s.neighbours.length > 0
    }, [x, y], { timeout: 120_000 })
  }
  await a.evaluate((bytes) => window.__world!.setAvatar(bytes), avatarPng())
  // Until bob has alice's avatar (presence names it, the asset service fetches it at LOW priority).
  await b.waitForFunction(() => window.__world!.snapshot().neighbours.some((n) => n.avatarLoaded), null, { timeout: 90_000 })
  await b.evaluate(() => window.__world!.chat('hi alice! nice avatar'))
  await a.waitForTimeout(1500)
  await a.evaluate(() => window.__world!.chat('thanks bob, drawn in the browser, fetched over WebRTC'))
  await b.waitForTimeout(2500)
  // The HUD starts folded in a window this size; the README shows it open.
  await b.locator('#hud-toggle').click()
  await b.screenshot({ path: `${out}/two-players.png` })
  await a.evaluate(() => window.__world!.toggleInspector(true))
  await a.waitForTimeout(2500)
  await a.screenshot({ path: `${out}/inspector.png` })
  const c = await open(true)
  await c.evaluate(() => window.__world!.setName('carol'))
  await c.evaluate(() => window.__world!.move(1030, 1090))
  await c.waitForFunction(() => window.__world!.snapshot().neighbours.filter((n) => n.linkOpen).length >= 2, null, { timeout: 120_000 })
  await c.evaluate(() => window.__world!.chat('hello from my phone'))
  await c.waitForTimeout(2500)
  await c.screenshot({ path: `${out}/phone.png` })
  console.log(`wrote ${out}/two-players.png, ${out}/inspector.png and ${out}/phone.png`)
} finally {
  await browser.close()
  server.stop()
}
