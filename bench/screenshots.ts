/**
 * Screenshots of the running game for README: `npm start` on a free port, two
 * players (two browser contexts, as two tabs of two people), close together,
 * named, one with a custom avatar, talking; one with the inspector open.
 *   npm run screenshots -- [--out docs/images]
 */
import { deflateSync } from 'node:zlib'
import { launchChromium, startServer } from './lib/browser.js'
import { parseArgs } from './lib/args.js'

const args = parseArgs(process.argv.slice(2))
const out = args.get('out') ?? 'docs/images'

/** A small checkered PNG (what a player might pick as an avatar), built here so no file is needed. */
function avatarPng(): number[] {
  const w = 48
  const rows: number[] = []
  for (let y = 0; y < w; y++) {
    rows.push(0)
    for (let x = 0; x < w; x++) rows.push(...((x >> 3) + (y >> 3)) % 2 ? [255, 138, 101] : [92, 107, 192])
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (b: Buffer): number => {
    let c = 0xffffffff
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const sum = Buffer.alloc(4)
    sum.writeUInt32BE(crc(td))
    return Buffer.concat([len, td, sum])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(w, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))])
  return [...png]
}

const server = await startServer()
const browser = await launchChromium()
try {
  const open = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
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
  await b.screenshot({ path: `${out}/two-players.png` })
  await a.evaluate(() => window.__world!.toggleInspector(true))
  await a.waitForTimeout(2500)
  await a.screenshot({ path: `${out}/inspector.png` })
  console.log(`wrote ${out}/two-players.png and ${out}/inspector.png`)
} finally {
  await browser.close()
  server.stop()
}
