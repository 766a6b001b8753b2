import { hmac } from '@noble/hashes/hmac.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { utf8 } from '../src/core/bytes.js'
import type { KeyPair } from '../src/core/env.js'
import type { PeerId } from '../src/core/id.js'
import type { IceServer } from '../src/platform/ice-servers.js'
import { JsonLog } from '../src/platform/json-log.js'
import { createNodeEnv } from '../src/platform/node/node-env.js'
import { SignalingClient } from '../src/platform/signaling/signaling-client.js'
import { IceConfig, turnCredential } from './ice.js'
import { SignalingServer } from './server.js'

const SECRET = 'lab-secret-3f9a1c0e7b2d4a6f8e0c'
const env = createNodeEnv({ logLevel: 'silent' })
const PEER = 'ab'.repeat(32) as PeerId

describe('TURN credentials (TURN REST API, coturn use-auth-secret)', () => {
  it('the password is the base64 HMAC-SHA1 of the username keyed with the secret', () => {
    const username = `1700000000:${PEER}`
    const independent = Buffer.from(hmac(sha1, utf8(SECRET), utf8(username))).toString('base64')
    expect(turnCredential(SECRET, username)).toBe(independent)
    expect(turnCredential(SECRET, username)).toHaveLength(28) // 20 bytes of HMAC-SHA1 in base64
    expect(turnCredential(`${SECRET}x`, username)).not.toBe(independent)
  })

  it('grants STUN as given and TURN with `expiry:peerId`, expiring after the lifetime', () => {
    const ice = new IceConfig({ stun: ['stun:198.18.0.1:3478'], turn: ['turn:198.18.0.1:3478?transport=udp'], turnSecret: SECRET, turnTtlSec: 3600 }, () => 1_700_000_000.7)
    const { servers, expiresAtSec } = ice.grant(PEER)
    expect(expiresAtSec).toBe(1_700_003_600)
    expect(servers).toEqual([
      { urls: ['stun:198.18.0.1:3478'] },
      { urls: ['turn:198.18.0.1:3478?transport=udp'], username: `1700003600:${PEER}`, credential: turnCredential(SECRET, `1700003600:${PEER}`) },
    ])
    expect(ice.renewAfterMs).toBe(1_800_000)
    expect(new IceConfig({ stun: ['stun:a:1'] }).grant(PEER)).toEqual({ servers: [{ urls: ['stun:a:1'] }], expiresAtSec: undefined })
    expect(new IceConfig().grant(PEER).servers).toEqual([])
  })

  it('refuses an unusable configuration with a message for the operator', () => {
    expect(() => new IceConfig({ turn: ['turn:a:3478'] })).toThrow(/shared secret/)
    expect(() => new IceConfig({ stun: ['http://a'] })).toThrow(/not a STUN URL/)
    expect(() => new IceConfig({ stun: ['turn:a:1'] })).toThrow(/not a STUN URL/)
    expect(() => new IceConfig({ turn: ['stun:a:1'], turnSecret: SECRET })).toThrow(/not a TURN URL/)
    expect(() => new IceConfig({ turn: ['turn:a:1'], turnSecret: SECRET, turnTtlSec: 10 })).toThrow(/lifetime/)
  })

  it('keeps the secret out of JSON and inspection', () => {
    const ice = new IceConfig({ turn: ['turn:a:1'], turnSecret: SECRET })
    expect(JSON.stringify(ice)).not.toContain(SECRET)
    expect(inspect(ice, { depth: 5, showHidden: true })).not.toContain(SECRET)
    expect(JSON.stringify(ice.describe())).not.toContain(SECRET)
  })
})

/** An IceConfig that renews every `ms`, so a test sees renewals. */
class FastIce extends IceConfig {
  constructor(private readonly ms: number, clock: () => number) {
    super({ stun: ['stun:198.18.0.1:3478'], turn: ['turn:198.18.0.1:3478?transport=udp'], turnSecret: SECRET, turnTtlSec: 600 }, clock)
  }

  override get renewAfterMs(): number {
    return this.ms
  }
}

let stop: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const s of stop.reverse()) await s()
  stop = []
})

function client(url: string, keyPair: KeyPair, onIce: (s: readonly IceServer[]) => void): SignalingClient {
  const c = new SignalingClient(
    { keyPair, crypto: env.crypto, timers: env.timers, rng: env.rng, log: env.log, WebSocket },
    { url, world: 'w', onSignal: () => {}, onIce },
  )
  c.start()
  stop.push(async () => c.close())
  return c
}

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('the node hands out ICE servers', () => {
  it('in the welcome, and a fresh TURN credential before the old one expires; the secret never leaves', async () => {
    const lines: string[] = []
    const log = new JsonLog({ write: (l) => lines.push(l) }, { level: 'debug' })
    let wall = 1_700_000_000
    const server = new SignalingServer({ crypto: env.crypto, log }, { ice: new FastIce(150, () => wall) })
    stop.push(() => server.stop())
    const port = await server.start()
    const keyPair = env.crypto.keyPairFromSeed(env.rng.bytes(32))
    const got: (readonly IceServer[])[] = []
    const c = client(`ws://127.0.0.1:${port}`, keyPair, (s) => got.push(s))
    await until(() => c.state === 'joined' && got.length >= 1)
    const first = got[0]!
    expect(first[0]).toEqual({ urls: ['stun:198.18.0.1:3478'] })
    expect(first[1]!.username).toBe(`1700000600:${c.id}`)
    expect(first[1]!.credential).toBe(turnCredential(SECRET, `1700000600:${c.id}`))
    wall += 100
    await until(() => got.length >= 2)
    expect(got[1]![1]!.username).toBe(`1700000700:${c.id}`)
    expect(server.stats.iceRenewals).toBeGreaterThanOrEqual(1)
    expect(c.iceServers).toBe(got[got.length - 1])
    expect(server.health()).toMatchObject({ ok: true, clients: 1, authenticated: 1, worlds: 1, stun: 1, turn: 1 })
    // Nothing the client received, and no log line, carries the secret.
    expect(JSON.stringify(got)).not.toContain(SECRET)
    expect(lines.length).toBeGreaterThan(3)
    expect(lines.join('\n')).not.toContain(SECRET)
    expect(lines.join('\n')).not.toContain(first[1]!.credential!)
  })

  it('hands an empty list when it has none, and no renewals', async () => {
    const server = new SignalingServer({ crypto: env.crypto, log: env.log }, {})
    stop.push(() => server.stop())
    const port = await server.start()
    const got: (readonly IceServer[])[] = []
    const c = client(`ws://127.0.0.1:${port}`, env.crypto.keyPairFromSeed(env.rng.bytes(32)), (s) => got.push(s))
    await until(() => c.state === 'joined')
    expect(got).toEqual([[]])
    expect(server.stats.iceRenewals).toBe(0)
  })
})
