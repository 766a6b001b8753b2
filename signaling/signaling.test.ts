import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { toHex } from '../src/core/bytes.js'
import { SILENT_LOG } from '../src/core/env.js'
import { authMessage } from '../src/platform/signaling/signaling-protocol.js'
import { SignalingServer } from './server.js'
import { crypto, Harness, rng } from './test-support.js'

const h = new Harness()
afterEach(() => h.cleanup())

describe('signaling node', () => {
  it('authenticates, joins worlds and answers with live peers of the same world', async () => {
    const { url, server } = await h.start()
    const a = await h.member(url, 'w1')
    const b = await h.member(url, 'w1')
    const c = await h.member(url, 'w2')
    const d = await h.member(url, 'w1')
    expect(a.hosts).toEqual([])
    expect(b.hosts).toEqual([a.id])
    expect(c.hosts).toEqual([])
    expect(new Set(d.hosts)).toEqual(new Set([a.id, b.id]))
    expect(server.clientCount).toBe(4)
  })

  it('relays signaling between peers of one world, stamping the authenticated sender', async () => {
    const { url, server } = await h.start()
    const a = await h.member(url, 'w')
    const b = await h.member(url, 'w')
    const c = await h.member(url, 'w')
    // `from` is not the client's to choose: a claims to be c.
    a.raw.send({ t: 'signal', to: b.id, from: c.id, initiator: true, data: { type: 'offer', sdp: 'v=0', _a: 1 } })
    expect(await b.raw.next('signal')).toEqual({ t: 'signal', from: a.id, initiator: true, data: { type: 'offer', sdp: 'v=0', _a: 1 } })
    b.raw.send({ t: 'signal', to: a.id, initiator: false, data: { type: 'answer', sdp: 'v=0' } })
    expect((await a.raw.next('signal')).from).toBe(b.id)
    expect(server.stats.relayed).toBe(2)
  })

  it('refuses a relay to a peer in another world', async () => {
    const { url } = await h.start()
    const a = await h.member(url, 'w1')
    const c = await h.member(url, 'w2')
    a.raw.send({ t: 'signal', to: c.id, initiator: true, data: { type: 'offer', sdp: 'v=0' } })
    expect(await a.raw.next('error')).toMatchObject({ code: 'unknown-peer', to: c.id })
    await new Promise((r) => setTimeout(r, 50))
    expect(c.raw.msgs).toEqual([])
    await h.expectServing(url)
  })

  it('answers malformed JSON and binary garbage with clear errors, then closes a persistent offender', async () => {
    const { url } = await h.start({ maxBadFrames: 5 })
    const a = await h.member(url, 'w')
    a.raw.send('{"t":"signal", this is not json')
    expect(await a.raw.next('error')).toEqual({ t: 'error', code: 'bad-frame', message: 'not JSON: every frame is one JSON object' })
    a.raw.send(Buffer.from(rng.bytes(300)))
    expect(await a.raw.next('error')).toEqual({ t: 'error', code: 'bad-frame', message: 'binary frames are not part of the protocol' })
    for (const junk of ['null', '[1,2]', '"str"', '{"t":"signal","to":"zz","initiator":true,"data":{}}', '{"t":"join","world":"no spaces!"}']) a.raw.send(junk)
    expect(await a.raw.closed).toEqual({ code: 1008, reason: 'too many malformed frames' })
    await h.expectServing(url)
  })

  it('closes a socket that sends an oversize frame (1009)', async () => {
    const { url } = await h.start()
    const a = await h.member(url, 'w')
    a.raw.send(JSON.stringify({ t: 'signal', to: a.id, initiator: true, data: { pad: 'x'.repeat(70 * 1024) } }))
    expect((await a.raw.closed).code).toBe(1009)
    await h.expectServing(url)
  })

  it('rate-limits a flood: drops with one error, then closes the flooder', async () => {
    const { url } = await h.start({ messagesPerSec: 10, burstMessages: 20, maxDropped: 50 })
    const a = await h.member(url, 'w')
    const b = await h.member(url, 'w')
    for (let i = 0; i < 200; i++) a.raw.send({ t: 'signal', to: b.id, initiator: true, data: { i } })
    expect(await a.raw.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' })
    expect(a.raw.msgs.filter((m) => m.t === 'error' && m.code === 'rate-limited')).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 50))
    const relayed = b.raw.msgs.filter((m) => m.t === 'signal').length
    expect(relayed).toBeGreaterThan(0)
    expect(relayed).toBeLessThanOrEqual(20)
    await h.expectServing(url)
  })

  it('refuses a spoofed peer id: a signature that does not verify, or a key that is not the signer\'s', async () => {
    const { url } = await h.start()
    const victim = crypto.keyPairFromSeed(rng.bytes(32))
    const attacker = crypto.keyPairFromSeed(rng.bytes(32))
    // The victim's public key with the attacker's signature over the right nonce.
    const s1 = await h.connect(url)
    const { nonce } = await s1.next('challenge')
    s1.send({ t: 'auth', key: toHex(victim.publicKey), sig: toHex(attacker.sign(authMessage(Buffer.from(nonce as string, 'hex')))) })
    expect(await s1.next('error')).toMatchObject({ code: 'auth-failed' })
    expect(await s1.closed).toEqual({ code: 1008, reason: 'auth failed' })
    // A signature the victim made for another connection's nonce (a replay).
    const s2 = await h.connect(url)
    await s2.next('challenge')
    s2.send({ t: 'auth', key: toHex(victim.publicKey), sig: toHex(victim.sign(authMessage(rng.bytes(32)))) })
    expect(await s2.next('error')).toMatchObject({ code: 'auth-failed' })
    expect((await s2.closed).code).toBe(1008)
    // Nothing but auth before authenticating.
    const s3 = await h.connect(url)
    s3.send({ t: 'join', world: 'w' })
    expect(await s3.next('error')).toMatchObject({ code: 'not-authenticated' })
    await h.expectServing(url)
  })

  it('a newer connection with the same key replaces the older one', async () => {
    const { url } = await h.start()
    const key = crypto.keyPairFromSeed(rng.bytes(32))
    const first = await h.member(url, 'w', key)
    const second = await h.member(url, 'w', key)
    expect(await first.raw.closed).toEqual({ code: 4000, reason: 'replaced by a newer connection' })
    const other = await h.member(url, 'w')
    expect(other.hosts).toEqual([second.id])
  })

  it('closes sockets that never authenticate or stop answering heartbeats', async () => {
    const { url, server } = await h.start({ authTimeoutMs: 100, heartbeatMs: 100 })
    const idle = await h.connect(url)
    expect(await idle.closed).toEqual({ code: 1008, reason: 'auth timeout' })
    const dead = await h.member(url, 'w')
    const alive = await h.member(url, 'w')
    // Stop reading: the client can no longer answer pings.
    ;(dead.raw.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const end = performance.now() + 2000
    while (server.clientCount > 1 && performance.now() < end) await new Promise((r) => setTimeout(r, 20))
    expect(server.clientCount).toBe(1)
    expect(server.stats.heartbeatTimeouts).toBeGreaterThanOrEqual(1)
    alive.raw.send({ t: 'signal', to: dead.id, initiator: true, data: {} })
    expect(await alive.raw.next('error')).toMatchObject({ code: 'unknown-peer' })
  })

  it('refuses connections beyond its capacity (1013)', async () => {
    const { url } = await h.start({ maxClients: 2 })
    await h.member(url, 'w')
    await h.member(url, 'w')
    const third = await h.connect(url)
    expect(await third.closed).toEqual({ code: 1013, reason: 'server full' })
  })

  it('shares an HTTP server, so one port serves the client and the node', async () => {
    const http = createServer((_req, res) => res.end('client'))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const server = new SignalingServer({ crypto, log: SILENT_LOG }, { server: http })
    h.servers.push(server)
    const port = await server.start()
    expect(port).toBe((http.address() as { port: number }).port)
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('client')
    await h.expectServing(`ws://127.0.0.1:${port}`)
    await server.stop()
    await new Promise((resolve) => http.close(resolve))
  })
})
