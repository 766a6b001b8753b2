import { expect, test } from './lib/fixtures.js'
import { openPlayer, snapshot, until } from './lib/player.js'

/* A player on a phone-sized touch screen beside one on a desktop. */

test('a phone player (390 x 844, touch) sees the map and the other player, moves by taps and chats', async ({ browser, server, world, player }) => {
  const desk = await player({ at: { x: 1000, y: 1000 } })
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
  try {
    const phone = await openPlayer(context, server.url, { world, at: { x: 1060, y: 1000 }, headless: false })
    const ids = { desk: (await snapshot(desk)).id, phone: (await snapshot(phone)).id }
    await until(phone, (s) => s.neighbours.some((n) => n.id === ids.desk && n.linkOpen), 20_000, () => 'the phone does not see the desktop player')
    // Panels start folded and leave the middle of the screen, where the player stands, to the map.
    await expect(phone.locator('#hud')).toHaveClass(/collapsed/)
    await expect(phone.locator('#side')).toHaveClass(/collapsed/)
    const layout = await phone.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      centre: document.elementFromPoint(window.innerWidth / 2, window.innerHeight / 2)?.tagName,
    }))
    expect(layout).toEqual({ overflow: 0, centre: 'CANVAS' })
    // The folded HUD still says where things stand, and opens with a tap.
    await expect(phone.locator('#hud-summary')).toContainText('joined')
    await phone.locator('#hud-toggle').tap()
    await expect(phone.locator('#hud-stats')).toBeVisible()
    await phone.locator('#hud-toggle').tap()
    // A tap to the right of the player sends it walking right.
    const before = await snapshot(phone)
    await phone.touchscreen.tap(390 / 2 + 120, 844 / 2)
    await until(phone, (s) => s.x > before.x + 20, 10_000, (s) => `the phone player stayed at ${s.x.toFixed(0)}`)
    await until(desk, (s) => (s.neighbours.find((n) => n.id === ids.phone)?.x ?? 0) > before.x + 20, 10_000, () => 'the desktop player did not see the move')
    // Chat from the phone's input.
    await phone.locator('#chat-input').tap()
    await phone.locator('#chat-input').fill('hello from a phone')
    await phone.locator('#chat-input').press('Enter')
    await until(desk, (s) => s.chat.some((l) => l.text === 'hello from a phone'), 10_000, () => 'the desktop player did not hear the phone')
  } finally {
    await context.close()
  }
})

test('a page frozen in the background (as a phone does to a hidden tab) comes back into the world by itself', async ({ player, browser, server, world }) => {
  const a = await player({ at: { x: 1000, y: 1000 } })
  const context = await browser.newContext()
  try {
    const b = await openPlayer(context, server.url, { world, at: { x: 1060, y: 1000 } })
    const bid = (await snapshot(b)).id
    await until(a, (s) => s.neighbours.some((n) => n.id === bid && n.linkOpen), 20_000, () => 'a does not see b')
    // Headless pages are never hidden, so Chromium will not freeze one; pausing its scripts in the
    // debugger stops the same things (timers, message handlers) while the browser keeps its sockets.
    const cdp = await context.newCDPSession(b)
    await cdp.send('Debugger.enable')
    await cdp.send('Debugger.pause')
    // Frozen, b answers nothing: a's link to it dies (2 s without a frame) and a forgets it.
    await until(a, (s) => !s.neighbours.some((n) => n.id === bid), 15_000, () => 'a still shows the frozen b')
    await cdp.send('Debugger.resume')
    await until(b, (s) => s.neighbours.some((n) => n.linkOpen), 20_000, (s) => `b did not come back: ${s.peerState}, ${s.links.open} links`)
    await until(a, (s) => s.neighbours.some((n) => n.id === bid && n.linkOpen), 20_000, () => 'a does not see b again')
  } finally {
    await context.close()
  }
})

test('in an 800 x 600 and a 1280 x 800 window no neighbour in the AOI is hidden behind a panel', async ({ player, browser, server, world }) => {
  const centre = { x: 1000, y: 1000 }
  const corners = [[-130, -130], [130, -130], [-130, 130], [130, 130], [0, -190], [-190, 0]] as const
  const others = []
  for (const [dx, dy] of corners) others.push(await player({ at: { x: centre.x + dx, y: centre.y + dy } }))
  for (const viewport of [{ width: 800, height: 600 }, { width: 1280, height: 800 }]) {
    const context = await browser.newContext({ viewport })
    try {
      const page = await openPlayer(context, server.url, { world, at: centre, headless: false })
      await until(page, (s) => s.neighbours.filter((n) => Math.hypot(n.x - s.x, n.y - s.y) < s.aoi).length === corners.length, 30_000, (s) => `sees ${s.neighbours.length}`)
      // The camera centres the player at zoom 1.25: a neighbour is drawn at centre + 1.25 x offset.
      const covered = await page.evaluate(() => {
        const s = window.__world!.snapshot()
        return s.neighbours.filter((n) => {
          const x = window.innerWidth / 2 + (n.x - s.x) * 1.25
          const y = window.innerHeight / 2 + (n.y - s.y) * 1.25
          return document.elementFromPoint(x, y)?.tagName !== 'CANVAS'
        }).map((n) => `${n.id.slice(0, 6)} at ${(n.x - s.x).toFixed(0)},${(n.y - s.y).toFixed(0)}`)
      })
      expect(covered, `${viewport.width} x ${viewport.height}`).toEqual([])
    } finally {
      await context.close()
    }
  }
})
