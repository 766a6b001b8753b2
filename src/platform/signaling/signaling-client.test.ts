import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { SignalingServer } from '../../../signaling/server.js'
import { SILENT_LOG, type Rng, type Timers } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import type { SignalData } from '../../link/transport.js'
import { NodeCrypto } from '../node/node-crypto.js'
import { NodeRng } from '../node/node-rng.js'
import { SignalingClient, type SignalingClientInit } from './signaling-client.js'
import type { JoinTicket } from '../../von/join-tickets.js'

const crypto = new NodeCrypto()
const rng = new NodeRng()
const timers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) }

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function server(port = 0): Promise<SignalingServer> {
  const s = new SignalingServer({ crypto, log: SILENT_LOG }, { port })
  await s.start()
  cleanup.push(() => s.stop())
  return s
}

function client(url: string, init: Partial<SignalingClientInit> = {}, keyPair = crypto.keyPairFromSeed(rng.bytes(32))) {
  const got: { from: PeerId; initiator: boolean; data: SignalData }[] = []
  const hostsSeen: (readonly PeerId[])[] = []
  const c = new SignalingClient(
    { keyPair, crypto, timers, rng, log: SILENT_LOG, WebSocket },
    { url, world: 'w', backoffMinMs: 20, backoffMaxMs: 200, onSignal: (from, initiator, data) => got.push({ from, initiator, data }), onHosts: (h) => hostsSeen.push(h), ...init },
  )
  cleanup.push(() => c.close())
  c.start()
  return { c, got, hostsSeen }
}

describe('SignalingClient', () => {
  it('one identity connected twice: the older copy steps back (no reconnect loop) until it takes over', async () => {
    const s = await server()
    const url = `ws://127.0.0.1:${s.port}`
    const key = crypto.keyPairFromSeed(rng.bytes(32))
    let aReplaced = 0
    let bReplaced = 0
    const a = client(url, { onReplaced: () => aReplaced++ }, key)
    await until(() => a.c.state === 'joined')
    const b = client(url, { onReplaced: () => bReplaced++ }, key)
    await until(() => b.c.state === 'joined' && a.c.state === 'replaced')
    const connects = a.c.stats.connects
    await new Promise((r) => setTimeout(r, 400)) // backoff is 20-200 ms here: a loop would show
    expect(a.c.stats.connects).toBe(connects)
    expect([a.c.state, b.c.state, aReplaced, bReplaced]).toEqual(['replaced', 'joined', 1, 0])
    a.c.takeOver()
    await until(() => a.c.state === 'joined' && b.c.state === 'replaced')
    expect(bReplaced).toBe(1)
  })

  it('joins, exposes the host cache and relays signaling both ways', async () => {
    const s = await server()
    const url = `ws://127.0.0.1:${s.port}`
    const a = client(url)
    await until(() => a.c.state === 'joined')
    const b = client(url)
    await until(() => b.c.state === 'joined')
    expect(b.c.hosts).toEqual([a.c.id])
    expect(b.hostsSeen).toEqual([[a.c.id]])
    expect(b.c.send(a.c.id, true, { type: 'offer', sdp: 'v=0', _a: 3 })).toBe(true)
    await until(() => a.got.length === 1)
    expect(a.got[0]).toEqual({ from: b.c.id, initiator: true, data: { type: 'offer', sdp: 'v=0', _a: 3 } })
    expect(b.c.refreshHosts()).toBe(true)
    await until(() => b.hostsSeen.length === 2)
  })

  it('reports a relay the node refused', async () => {
    const s = await server()
    const errors: string[] = []
    const a = client(`ws://127.0.0.1:${s.port}`, { onError: (code) => errors.push(code) })
    await until(() => a.c.state === 'joined')
    a.c.send('ab'.repeat(32) as PeerId, true, {})
    await until(() => errors.length === 1)
    expect(errors).toEqual(['unknown-peer'])
  })

  it('reconnects with backoff when the node goes away and rejoins when it is back', async () => {
    const first = await server()
    const port = first.port
    const url = `ws://127.0.0.1:${port}`
    const a = client(url)
    const b = client(url)
    await until(() => a.c.state === 'joined' && b.c.state === 'joined')
    await first.stop()
    await until(() => a.c.state === 'backoff')
    expect(a.c.send(b.c.id, true, {})).toBe(false)
    await new Promise((r) => setTimeout(r, 150)) // a few refused attempts
    expect(a.c.stats.connects).toBeGreaterThan(1)
    await server(port)
    await until(() => a.c.state === 'joined' && b.c.state === 'joined', 3000)
    expect(a.c.stats.joins).toBe(2)
    expect(a.c.send(b.c.id, true, { again: true })).toBe(true)
    await until(() => b.got.length === 1)
    a.c.close()
    const connects = a.c.stats.connects
    await new Promise((r) => setTimeout(r, 100))
    expect(a.c.stats.connects).toBe(connects)
    expect(a.c.state).toBe('closed')
  })

  it('doubles the retry delay up to the cap, with jitter in [50 %, 100 %]', async () => {
    const delays: number[] = []
    const pending: (() => void)[] = []
    const fakeTimers: Timers = {
      setTimeout: (fn, ms) => {
        delays.push(ms)
        pending.push(fn)
        return pending.length
      },
      clearTimeout: () => {},
    }
    // A socket that fails as soon as it is created.
    class Refused {
      readyState = 3
      onclose: ((e: { code: number; reason: string }) => void) | null = null
      onmessage = null
      onerror = null
      constructor() {
        queueMicrotask(() => this.onclose?.({ code: 1006, reason: '' }))
      }
      send() {}
      close() {}
    }
    const maxRng: Rng = { next: () => 0.999999, int: () => 0, bytes: (n) => new Uint8Array(n) }
    const c = new SignalingClient(
      { keyPair: crypto.keyPairFromSeed(rng.bytes(32)), crypto, timers: fakeTimers, rng: maxRng, log: SILENT_LOG, WebSocket: Refused },
      { url: 'ws://nowhere', world: 'w', backoffMinMs: 100, backoffMaxMs: 1000, onSignal: () => {} },
    )
    c.start()
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 0))
      pending.at(-1)!() // fire the backoff timer: connect again
    }
    c.close()
    // Each attempt arms a join timeout (10 s) and, once refused, a backoff.
    const backoffs = delays.filter((d) => d !== 10_000).map(Math.round)
    expect(backoffs).toEqual([100, 200, 400, 800, 1000, 1000])
  })

  it('join tickets from a real node: signed for our place, checked by another peer against the welcome\'s key, refused too far or too soon (issue 23)', async () => {
    const s = await server()
    const url = `ws://127.0.0.1:${s.port}`
    const a = client(url)
    const b = client(url)
    await until(() => a.c.state === 'joined' && b.c.state === 'joined')
    expect(a.c.tickets.required()).toBe(true)
    const rules = { speedMax: 50 }
    const ask = (x: number, y: number) => new Promise<JoinTicket | undefined>((resolve) => a.c.tickets.fetch(x, y, resolve))
    const t = await ask(100, 100)
    expect(t).toBeDefined()
    // B checks A's ticket: A's place, and no farther than the speed limit carries it since.
    expect(b.c.tickets.covers(a.c.id, t!, 120, 100, rules)).toBe(true)
    expect(b.c.tickets.covers(a.c.id, t!, 900, 100, rules)).toBe(false)
    expect(b.c.tickets.covers(b.c.id, t!, 100, 100, rules)).toBe(false)
    // Again within the second, and then far away: refused, with a reason.
    expect(await ask(100, 100)).toBeUndefined()
    await new Promise((r) => setTimeout(r, 1100))
    expect(await ask(5000, 100)).toBeUndefined()
    expect(a.c.stats).toMatchObject({ tickets: 1, ticketsRefused: 2 })
    // A node that issues none: no ticket, none required.
    const off = new SignalingServer({ crypto, log: SILENT_LOG }, { port: 0, ticketSpeed: 0 })
    await off.start()
    cleanup.push(() => off.stop())
    const c = client(`ws://127.0.0.1:${off.port}`)
    await until(() => c.c.state === 'joined')
    expect(c.c.tickets.required()).toBe(false)
    expect(await new Promise((resolve) => c.c.tickets.fetch(1, 1, resolve))).toBeUndefined()
  })
})
