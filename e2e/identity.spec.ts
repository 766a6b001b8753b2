import { IDENTITY_KEY } from '../src/peer/identity.js'
import { expect, test } from './lib/fixtures.js'
import { openPlayer, readStore, seedStore, snapshot, until, waitReady } from './lib/player.js'

/*
 * One tab, one player: a tab keeps its player across reloads whatever other
 * tabs do; a new tab of a browser that played before asks which player; the
 * same player open twice does not fight over the signaling node.
 */

test('two tabs of one browser: close one, reload the other, and it is still itself', async ({ browser, server, world }) => {
  const context = await browser.newContext()
  try {
    const first = await openPlayer(context, server.url, { world })
    const second = await openPlayer(context, server.url, { world })
    const [a, b] = [await snapshot(first), await snapshot(second)]
    expect(a.id).not.toBe(b.id)
    await first.close()
    await second.reload()
    await waitReady(second)
    expect((await snapshot(second)).id).toBe(b.id)
    // A new tab now may play the saved player no tab is playing: the rendered page asks.
    const third = await context.newPage()
    await third.goto(`${server.url}?world=${world}`)
    const picker = third.locator('#player-picker')
    await expect(picker).toBeVisible()
    await expect(third.locator('#player-picker-choices button')).toHaveCount(2) // a's player, and "New player"
    await third.locator('#player-picker-choices button', { hasText: 'New player' }).click()
    await waitReady(third)
    const c = await snapshot(third)
    expect([a.id, b.id]).not.toContain(c.id)
  } finally {
    await context.close()
  }
})

test('the same player in two browsers: the older page steps back and says so, with no reconnect loop, until it plays here again', async ({ browser, server, world }) => {
  const ctxA = await browser.newContext()
  const ctxB = await browser.newContext()
  try {
    const a = await openPlayer(ctxA, server.url, { world })
    const sa = await until(a, (s) => s.peerState === 'joined', 20_000)
    // The identity file's import does this; here the seed is copied into the other browser's store.
    const seed = await readStore(a, `tab0/${IDENTITY_KEY}`)
    expect(seed).toHaveLength(32)
    const seeder = await ctxB.newPage()
    await seedStore(seeder, server.url, `tab0/${IDENTITY_KEY}`, seed!)
    await seeder.close()
    const b = await openPlayer(ctxB, server.url, { world })
    expect((await snapshot(b)).id).toBe(sa.id)
    await until(b, (s) => s.peerState === 'joined', 20_000)
    await until(a, (s) => s.problem === 'replaced', 10_000, (s) => `a's problem: ${s.problem}`)
    // No fight: for 3 s, b stays in and a stays out.
    await a.waitForTimeout(3000)
    expect((await snapshot(a)).problem).toBe('replaced')
    expect((await snapshot(b)).problem).toBeUndefined()
    expect((await snapshot(b)).signaling).toBe('joined')
    // "Play here" takes it back; now b steps back.
    await a.evaluate(() => window.__world!.retryNow())
    await until(a, (s) => s.signaling === 'joined' && s.problem === undefined, 20_000, (s) => `a: ${s.signaling} ${s.problem}`)
    await until(b, (s) => s.problem === 'replaced', 10_000, (s) => `b's problem: ${s.problem}`)
  } finally {
    await ctxA.close()
    await ctxB.close()
  }
})
