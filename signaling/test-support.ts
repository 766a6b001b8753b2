import { expect } from 'vitest'
import { WebSocket } from 'ws'
import { toHex } from '../src/core/bytes.js'
import { SILENT_LOG, type KeyPair } from '../src/core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../src/core/id.js'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { NodeRng } from '../src/platform/node/node-rng.js'
import { authMessage } from '../src/platform/signaling/signaling-protocol.js'
import { SignalingServer, type SignalingServerComponents, type SignalingServerInit } from './server.js'

export const crypto = new NodeCrypto()
export const rng = new NodeRng()
export type Msg = Record<string, unknown>

/** Where a test socket comes from (on Linux all of 127/8 is this host) and what it says it is. */
export interface DialOptions {
  localAddress?: string
  origin?: string
  headers?: Record<string, string>
}

/** A bare WebSocket client that records what the node says. */
export class Raw {
  readonly msgs: Msg[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters: (() => void)[] = []

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.msgs.push(isBinary ? { binary: true } : (JSON.parse(data.toString()) as Msg))
      for (const w of this.waiters.splice(0)) w()
    })
    ws.on('error', () => {})
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  static async open(url: string, opts: DialOptions = {}): Promise<Raw> {
    const raw = new Raw(new WebSocket(url, opts))
    await new Promise((resolve, reject) => {
      raw.ws.once('open', resolve)
      raw.ws.once('error', reject)
    })
    return raw
  }

  send(v: Msg | string | Buffer): void {
    this.ws.send(typeof v === 'object' && !Buffer.isBuffer(v) ? JSON.stringify(v) : v)
  }

  /** The first message (from the start) with `t`, waiting up to `timeoutMs`. */
  async next(t: string, timeoutMs = 2000): Promise<Msg> {
    const end = performance.now() + timeoutMs
    for (;;) {
      const hit = this.msgs.find((m) => m.t === t)
      if (hit !== undefined) {
        this.msgs.splice(this.msgs.indexOf(hit), 1)
        return hit
      }
      const left = end - performance.now()
      if (left <= 0) throw new Error(`no '${t}' message; got ${JSON.stringify(this.msgs)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }
}

/** Signs a challenge's nonce with `key` as the client does. */
export function answer(key: KeyPair, challenge: Msg): Msg {
  const sig = key.sign(authMessage(Buffer.from(challenge.nonce as string, 'hex')))
  return { t: 'auth', key: toHex(key.publicKey), sig: toHex(sig) }
}

/** Nodes and sockets of one test file, all closed by {@link cleanup} (call it in afterEach). */
export class Harness {
  readonly servers: SignalingServer[] = []
  readonly sockets: Raw[] = []

  async cleanup(): Promise<void> {
    for (const s of this.sockets.splice(0)) s.ws.terminate()
    for (const s of this.servers.splice(0)) await s.stop()
  }

  async start(init: SignalingServerInit = {}, components: Partial<SignalingServerComponents> = {}): Promise<{ server: SignalingServer; url: string }> {
    const server = new SignalingServer({ crypto, log: SILENT_LOG, ...components }, init)
    this.servers.push(server)
    const port = await server.start()
    return { server, url: `ws://127.0.0.1:${port}` }
  }

  async connect(url: string, opts: DialOptions = {}): Promise<Raw> {
    const raw = await Raw.open(url, opts)
    this.sockets.push(raw)
    return raw
  }

  /** Connects, proves the key's id and joins `world`; returns the socket, id and host cache. */
  async member(url: string, world: string, key: KeyPair = crypto.keyPairFromSeed(rng.bytes(32)), opts: DialOptions = {}) {
    const raw = await this.connect(url, opts)
    raw.send(answer(key, await raw.next('challenge')))
    const { id } = await raw.next('welcome')
    expect(id).toBe(peerIdFromPublicKey(crypto, key.publicKey))
    raw.send({ t: 'join', world })
    const { peers } = await raw.next('peers')
    return { raw, id: id as PeerId, hosts: peers as PeerId[] }
  }

  /** The node still relays between two fresh, well-behaved peers (from `localAddress`). */
  async expectServing(url: string, localAddress?: string): Promise<void> {
    const opts = localAddress === undefined ? {} : { localAddress }
    const a = await this.member(url, 'healthy', undefined, opts)
    const b = await this.member(url, 'healthy', undefined, opts)
    a.raw.send({ t: 'signal', to: b.id, initiator: true, data: { type: 'offer', sdp: 'v=0' } })
    expect(await b.raw.next('signal')).toEqual({ t: 'signal', from: a.id, initiator: true, data: { type: 'offer', sdp: 'v=0' } })
  }
}
