import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { SILENT_LOG } from '../src/core/env.js'
import type { PeerId } from '../src/core/id.js'
import { SignalingClient } from '../src/platform/signaling/signaling-client.js'
import { answer, crypto, Harness, rng } from './test-support.js'

/**
 * The node against hostile clients (docs/signaling.md, "Hostile clients"):
 * real sockets on 127.0.0.1, other hosts played by other loopback addresses
 * (on Linux all of 127/8 is this machine).
 */
const h = new Harness()
afterEach(() => h.cleanup())

const UPGRADE = 'GET / HTTP/1.1\r\nHost: node\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

/**
 * Asks for `total` WebSocket upgrades from `localAddress`, `inFlight` at a time,
 * as an attacker would (raw TCP, no WebSocket library); counts the answers by status.
 */
async function hammer(port: number, localAddress: string, total: number, inFlight: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  let started = 0
  const one = (): Promise<void> => new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1', localAddress }, () => sock.write(UPGRADE))
    let head = ''
    let done = false
    const end = (status: string): void => {
      if (done) return
      done = true
      out[status] = (out[status] ?? 0) + 1
      sock.destroy()
      resolve()
    }
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1')
      const m = /^HTTP\/1\.1 (\d+)/.exec(head)
      if (m !== null) end(m[1]!)
    })
    sock.on('error', () => end('error'))
    sock.on('close', () => end('closed'))
  })
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++
      await one()
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return out
}

/** The HTTP status of an upgrade refused by the node, or 101 when it was accepted. */
function upgradeStatus(url: string, opts: { origin?: string; localAddress?: string; headers?: Record<string, string> }): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts)
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.on('open', () => {
      resolve(101)
      ws.terminate()
    })
    ws.on('error', () => resolve(0))
  })
}

describe('per-address caps', () => {
  it('one address hammering the node with 10,000 sockets does not keep another address from joining', async () => {
    const { url, server } = await h.start()
    const held = await Promise.all(Array.from({ length: 16 }, () => h.member(url, 'w')))
    expect(held).toHaveLength(16)
    const b0 = performance.now()
    await h.member(url, 'w', undefined, { localAddress: '127.0.0.4' })
    const baselineMs = performance.now() - b0
    const t0 = performance.now()
    const flood = hammer(server.port, '127.0.0.1', 10_000, 64)
    await new Promise((r) => setTimeout(r, 200)) // mid-flood
    const j0 = performance.now()
    const honest = await h.member(url, 'w', undefined, { localAddress: '127.0.0.2' })
    const joinMs = performance.now() - j0
    const result = await flood
    const floodMs = performance.now() - t0
    console.log(`10,000 upgrades asked from 127.0.0.1 in ${floodMs.toFixed(0)} ms: ${JSON.stringify(result)}; 127.0.0.2 joined in ${joinMs.toFixed(1)} ms during the flood (${baselineMs.toFixed(1)} ms before it)`)
    expect(result).toEqual({ 429: 10_000 })
    expect(server.stats.refusedAddress).toBe(10_000)
    expect(honest.hosts.length).toBeGreaterThan(0)
    expect(joinMs).toBeLessThan(1000)
    await h.expectServing(url, '127.0.0.2')
  }, 60_000)

  it('a full node makes room for a new address by closing the newest socket of the address holding the most', async () => {
    const { url, server } = await h.start({ maxClients: 20 })
    const big = []
    for (let i = 0; i < 16; i++) big.push(await h.member(url, 'w')) // in order: big[15] is the newest
    await Promise.all(Array.from({ length: 4 }, () => h.member(url, 'w', undefined, { localAddress: '127.0.0.3' })))
    expect(server.clientCount).toBe(20)
    const newcomer = await h.member(url, 'w', undefined, { localAddress: '127.0.0.2' })
    expect(await big[15]!.raw.closed).toEqual({ code: 1013, reason: 'server full: making room for another address' })
    expect(server.stats.evicted).toBe(1)
    expect(server.clientCount).toBe(20)
    expect(newcomer.hosts.length).toBeGreaterThan(0)
    // 127.0.0.1 now holds 15, nobody holds 17: its next socket finds no room to take.
    const again = await h.connect(url)
    expect(await again.closed).toEqual({ code: 1013, reason: 'server full' })
  })

  it('spends at most N authentications per minute per address, before verifying', async () => {
    const { url, server } = await h.start({ authsPerMinutePerAddress: 3 })
    const key = () => crypto.keyPairFromSeed(rng.bytes(32))
    const sockets = await Promise.all(Array.from({ length: 4 }, () => h.connect(url, { localAddress: '127.0.0.5' })))
    for (const s of sockets) s.send(answer(key(), await s.next('challenge')))
    for (const s of sockets.slice(0, 3)) await s.next('welcome')
    expect(await sockets[3]!.next('error')).toMatchObject({ code: 'rate-limited', message: 'too many authentications from your address: try again in a minute' })
    expect(await sockets[3]!.closed).toEqual({ code: 1013, reason: 'too many authentications from this address' })
    expect(await upgradeStatus(url, { localAddress: '127.0.0.5' })).toBe(429)
    expect(server.stats.authRateLimited).toBe(1)
    await h.expectServing(url, '127.0.0.6')
  })

  it('behind a trusted proxy, counts the address the proxy forwarded for', async () => {
    const { url } = await h.start({ maxSocketsPerAddress: 2, trustProxy: ['127.0.0.1'] })
    const via = (client: string) => ({ headers: { 'X-Forwarded-For': `203.0.113.9, ${client}` } })
    await h.connect(url, via('198.51.100.7'))
    await h.connect(url, via('198.51.100.7'))
    expect(await upgradeStatus(url, via('198.51.100.7'))).toBe(429)
    expect(await upgradeStatus(url, via('198.51.100.8'))).toBe(101)
    // Not from the proxy: the header is the client's own words, and ignored.
    await h.connect(url, { localAddress: '127.0.0.7', ...via('198.51.100.9') })
    await h.connect(url, { localAddress: '127.0.0.7', ...via('198.51.100.10') })
    expect(await upgradeStatus(url, { localAddress: '127.0.0.7', ...via('198.51.100.11') })).toBe(429)
  })
})

describe('host cache under a Sybil attack', () => {
  it.each([
    ['one address', (_i: number) => '127.0.0.1'],
    ['100 addresses', (i: number) => `127.0.2.${i + 1}`],
  ])('100 Sybils (%s) joining after 20 honest peers make at most a third of a joiner\'s hosts', async (_name, sybilAddress) => {
    const { url } = await h.start({ maxSocketsPerAddress: 128, authsPerMinutePerAddress: 1000 })
    const honest = new Set<PeerId>()
    for (let i = 0; i < 20; i++) honest.add((await h.member(url, 'w', undefined, { localAddress: `127.0.1.${i + 1}` })).id)
    const sybils = new Set<PeerId>()
    for (let i = 0; i < 100; i++) sybils.add((await h.member(url, 'w', undefined, { localAddress: sybilAddress(i) })).id)
    const shares: number[] = []
    for (let j = 0; j < 20; j++) {
      const { hosts } = await h.member(url, 'w', undefined, { localAddress: `127.0.3.${j + 1}` })
      expect(hosts).toHaveLength(8)
      const bad = hosts.filter((p) => sybils.has(p)).length
      shares.push(bad)
      expect(bad * 3).toBeLessThanOrEqual(hosts.length)
    }
    console.log(`Sybils in 20 joiners' host caches (${_name}): ${shares.join(' ')} of 8 (uniform sampling would give ~${(8 * 100 / 120).toFixed(1)})`)
  }, 30_000)
})

describe('host cache bound per address', () => {
  it('lists at most 2 peers of one address, unless that address is exempt', async () => {
    for (const [exemptAddresses, want] of [[[], 2], [['127.0.0.1'], 8]] as const) {
      const { url } = await h.start({ exemptAddresses })
      for (let i = 0; i < 10; i++) await h.member(url, 'w')
      expect((await h.member(url, 'w', undefined, { localAddress: '127.0.0.9' })).hosts).toHaveLength(want)
    }
  })
})

describe('idle authenticated sockets', () => {
  it('challenges a silent socket again and closes it (4001) when it does not answer', async () => {
    const { url, server } = await h.start({ idleTimeoutMs: 200, authTimeoutMs: 200 })
    const t0 = performance.now()
    const silent = await h.member(url, 'w')
    const chatty = await h.member(url, 'w')
    const challenge = await chatty.raw.next('challenge', 1000) // the idle probe
    const key = crypto.keyPairFromSeed(rng.bytes(32))
    chatty.raw.send(answer(key, challenge)) // answered with another key: not this socket's
    expect(await chatty.raw.closed).toEqual({ code: 1008, reason: 'auth failed' })
    const closed = await silent.raw.closed
    const ms = performance.now() - t0
    console.log(`silent socket closed after ${ms.toFixed(0)} ms (idle 200 ms + 200 ms to answer)`)
    expect(closed.code).toBe(4001)
    expect(closed.reason).toMatch(/^idle timeout: nothing received for \d+ s, challenge unanswered$/)
    expect(ms).toBeGreaterThanOrEqual(380)
    expect(server.stats.idleTimeouts).toBe(1)
  })

  it('keeps a settled SignalingClient: it answers every challenge, so it stays on one socket', async () => {
    const { url, server } = await h.start({ idleTimeoutMs: 150, authTimeoutMs: 150 })
    const env = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>) }
    const client = new SignalingClient(
      { keyPair: crypto.keyPairFromSeed(rng.bytes(32)), crypto, timers: env, rng, log: SILENT_LOG, WebSocket },
      { url, world: 'w', onSignal: () => {} },
    )
    client.start()
    try {
      const end = performance.now() + 5000
      while (server.stats.idleProbes < 4 && performance.now() < end) await new Promise((r) => setTimeout(r, 20))
      expect(server.stats.idleProbes).toBeGreaterThanOrEqual(4)
      expect(server.stats.idleTimeouts).toBe(0)
      expect(client.state).toBe('joined')
      expect(client.stats.connects).toBe(1)
    } finally {
      client.close()
    }
  })
})

describe('origins', () => {
  it('refuses a page of another origin at the upgrade (403); allows listed ones, its own, and non-browsers', async () => {
    const { url, server } = await h.start({ allowedOrigins: ['https://world.example.org'] })
    expect(await upgradeStatus(url, { origin: 'https://evil.example' })).toBe(403)
    expect(await upgradeStatus(url, { origin: 'null' })).toBe(403)
    expect(await upgradeStatus(url, { origin: 'https://world.example.org' })).toBe(101)
    expect(await upgradeStatus(url, { origin: url.replace('ws:', 'http:') })).toBe(101)
    expect(await upgradeStatus(url, {})).toBe(101)
    expect(server.stats.refusedOrigin).toBe(2)
    const open = await h.start()
    expect(await upgradeStatus(open.url, { origin: 'https://evil.example' })).toBe(101)
  })
})

describe('error texts', () => {
  it('says what is wrong with a frame', async () => {
    const { url } = await h.start({ maxBadFrames: 100 })
    const a = await h.member(url, 'w')
    const cases: [string, string][] = [
      ['{"t":"join", oops', 'not JSON: every frame is one JSON object'],
      ['[1,2]', 'not a JSON object: every frame is one JSON object'],
      ['{"world":"w"}', 'missing message type "t"'],
      ['{"t":7}', 'message type "t" must be a string'],
      ['{"t":"hello"}', 'unknown message type "hello"'],
      [JSON.stringify({ t: 'x'.repeat(100) }), `unknown message type "${'x'.repeat(32)}…"`],
      ['{"t":"auth","key":"00"}', 'malformed auth: needs key (32 bytes as hex) and sig (64 bytes as hex)'],
      ['{"t":"join","world":"no/slash"}', 'malformed join: world must be letters, digits, _ . - and single spaces between them, at most 64 characters, in Unicode NFC'],
      ['{"t":"signal","to":"zz","initiator":true,"data":{}}', 'malformed signal: needs to (a peer id, 64 hex digits), initiator (true or false) and data (an object)'],
    ]
    for (const [frame, message] of cases) {
      a.raw.send(frame)
      expect(await a.raw.next('error')).toEqual({ t: 'error', code: 'bad-frame', message })
    }
    a.raw.send(Buffer.from([1, 2, 3]))
    expect(await a.raw.next('error')).toEqual({ t: 'error', code: 'bad-frame', message: 'binary frames are not part of the protocol' })
    a.raw.send(answer(crypto.keyPairFromSeed(rng.bytes(32)), { nonce: '00'.repeat(32) }))
    expect(await a.raw.next('error')).toEqual({ t: 'error', code: 'bad-frame', message: 'already authenticated' })
  })
})
