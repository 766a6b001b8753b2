import { randomBytes } from 'node:crypto'
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { Clock, Crypto, Log } from '../src/core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../src/core/id.js'
import type { IceServer } from '../src/platform/ice-servers.js'
import {
  authMessage, encodeSignalingMessage, NONCE_BYTES, parseClientMessage,
  SIGNALING_VERSION, type ClientMessage, type ServerErrorCode, type ServerMessage,
} from '../src/platform/signaling/signaling-protocol.js'
import { Admission, type UpgradeInfo } from './admission.js'
import { newStats, type Client, type SignalingServerStats } from './client-state.js'
import { explainBadFrame } from './frame-errors.js'
import { IdleProbe } from './idle-probe.js'
import { describeLimits, resolveOptions, type SignalingServerInit, type SignalingServerOptions } from './options.js'
import { TokenBucket } from './token-bucket.js'
import { Worlds } from './worlds.js'
import { TicketIssuer } from '../src/von/join-tickets.js'

export type { SignalingServerStats } from './client-state.js'
export type { SignalingServerInit } from './options.js'

export interface SignalingServerComponents {
  crypto: Crypto
  log: Log
  /** Monotonic time for rate limits. @default performance.now() */
  clock?: Clock
  /** Draws for the host cache. @default Math.random */
  random?: () => number
}

/**
 * The bootstrap node: a peer proves its id by signing a fresh nonce, joins a world,
 * gets a few live peers of it (the host cache) and relays WebRTC signaling to
 * peers of the same world. It holds no state beyond its open sockets (and the
 * per-address budgets of `AddressLimits`). Wire protocol and the defences
 * against hostile clients: docs/signaling.md.
 */
export class SignalingServer {
  readonly stats: SignalingServerStats = newStats()
  private readonly crypto: Crypto
  private readonly log: Log
  private readonly clock: Clock
  private readonly init: SignalingServerOptions
  private readonly admission: Admission<Client>
  private readonly idle: IdleProbe
  private readonly external: HttpServer | undefined
  private readonly clients = new Set<Client>()
  private readonly byId = new Map<PeerId, Client>()
  private readonly worlds: Worlds
  /** Signs join tickets (undefined: ticketSpeed 0); a new key each start: peers learn it in every welcome. */
  private readonly tickets: TicketIssuer | undefined
  private wss: WebSocketServer | undefined
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private startedAt = 0

  constructor(components: SignalingServerComponents, init: SignalingServerInit = {}) {
    this.crypto = components.crypto
    this.log = components.log
    this.clock = components.clock ?? { now: () => performance.now() }
    this.external = init.server
    this.init = resolveOptions(init)
    this.worlds = new Worlds(this.init, components.random ?? Math.random)
    if (this.init.ticketSpeed > 0) this.tickets = new TicketIssuer(this.crypto.keyPairFromSeed(new Uint8Array(randomBytes(32))), this.clock, { speedMax: this.init.ticketSpeed })
    this.admission = new Admission({ clock: this.clock, log: this.log, stats: this.stats }, this.init)
    this.idle = new IdleProbe({
      clock: this.clock, crypto: this.crypto, stats: this.stats, live: (c) => this.clients.has(c),
      challenge: (c, nonce) => this.send(c, { t: 'challenge', v: SIGNALING_VERSION, nonce }),
      close: (c, code, reason) => this.drop(c, code, reason),
    }, { idleTimeoutMs: this.init.idleTimeoutMs, graceMs: this.init.authTimeoutMs })
  }

  /** Starts listening (or attaches to `server`); resolves with the port. */
  async start(): Promise<number> {
    if (this.wss !== undefined) return this.port
    const common = {
      maxPayload: this.init.maxFrameBytes, perMessageDeflate: false, clientTracking: false,
      verifyClient: (info: UpgradeInfo, done: (ok: boolean, code?: number, message?: string) => void) => this.admission.verify(info, done),
    }
    const wss = this.external !== undefined
      ? new WebSocketServer({ ...common, server: this.external })
      : new WebSocketServer({ ...common, port: this.init.port, host: this.init.host })
    this.wss = wss
    wss.on('connection', (ws, req) => this.onConnection(ws, req))
    if (this.external === undefined || !this.external.listening) {
      try {
        await new Promise<void>((resolve, reject) => {
          wss.once('listening', resolve)
          wss.once('error', reject)
        })
      } catch (err) {
        this.wss = undefined
        wss.close()
        throw err
      }
    }
    wss.on('error', (err) => this.log.error('server error', { err }))
    this.heartbeat = setInterval(() => this.beat(), this.init.heartbeatMs)
    this.startedAt = this.clock.now()
    const host = this.external === undefined ? this.init.host : undefined
    this.log.info('listening', { port: this.port, host, ice: this.init.ice.describe(), limits: describeLimits(this.init) })
    return this.port
  }

  get port(): number {
    const addr = (this.external ?? this.wss)?.address()
    return typeof addr === 'object' && addr !== null ? (addr as AddressInfo).port : 0
  }

  get clientCount(): number {
    return this.clients.size
  }

  /**
   * Marks these peer ids as anchors (the operator's always-on peers): listed
   * first in host caches, whenever they are connected.
   */
  markAnchors(ids: Iterable<PeerId>): void {
    for (const id of ids) this.worlds.markAnchor(id, this.byId.get(id))
  }

  /** What GET /health reports: listening, load, and which ICE servers peers get (no secrets). */
  health(): { ok: boolean; listening: boolean; clients: number; authenticated: number; worlds: number; stun: number; turn: number; uptimeSec: number } {
    const listening = this.wss !== undefined
    return {
      ok: listening, listening, clients: this.clients.size, authenticated: this.byId.size, worlds: this.worlds.size,
      stun: this.init.ice.stun.length, turn: this.init.ice.turn.length, uptimeSec: Math.round((this.clock.now() - this.startedAt) / 1000),
    }
  }

  /** Closes every socket and stops listening. */
  async stop(): Promise<void> {
    const wss = this.wss
    if (wss === undefined) return
    this.wss = undefined
    clearInterval(this.heartbeat)
    for (const c of [...this.clients]) {
      this.forget(c)
      c.ws.terminate()
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    this.log.info('stopped', {})
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const address = this.admission.addressOf(req)
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`
    const addr = peer.startsWith(`${address}:`) ? peer : `${address} via ${peer}`
    ws.on('error', (err) => this.log.warn('socket error', { addr, err }))
    if (this.clients.size >= this.init.maxClients && !this.makeRoom(address, addr)) {
      this.log.warn('full, refusing connection', { addr })
      ws.close(1013, 'server full')
      return
    }
    const now = this.clock.now()
    const c: Client = {
      ws, addr, address, exempt: this.admission.limits.isExempt(address), nonce: new Uint8Array(randomBytes(NONCE_BYTES)), alive: true, bad: 0, dropped: 0, limitedNotified: false,
      messages: new TokenBucket(this.init.messagesPerSec, this.init.burstMessages, now),
      bytes: new TokenBucket(this.init.bytesPerSec, this.init.burstBytes, now),
      lastSeenMs: now, probeSentMs: now,
    }
    this.clients.add(c)
    this.admission.limits.add(address, c, now)
    this.stats.connections++
    c.authTimer = setTimeout(() => this.drop(c, 1008, 'auth timeout'), this.init.authTimeoutMs)
    ws.on('pong', () => { c.alive = true })
    ws.on('message', (raw, isBinary) => this.onMessage(c, raw, isBinary))
    ws.on('close', (code, reason) => {
      this.forget(c)
      this.log.info('closed', { addr, peer: c.id?.slice(0, 12), code, reason: reason.toString() })
    })
    this.log.info('connected', { addr })
    this.send(c, { t: 'challenge', v: SIGNALING_VERSION, nonce: c.nonce })
  }

  /**
   * The node is full: closes the newest socket (unauthenticated first) of the
   * address holding the most, if that is at least two more than `address`
   * holds, so one address (or a few) cannot keep every other one out.
   */
  private makeRoom(address: string, addr: string): boolean {
    const victim = this.admission.limits.victimFor(address, (c) => c.id === undefined)
    if (victim === undefined) return false
    this.stats.evicted++
    this.log.warn('full, making room for another address', { addr, evicted: victim.addr })
    this.drop(victim, 1013, 'server full: making room for another address')
    return true
  }

  private onMessage(c: Client, raw: RawData, isBinary: boolean): void {
    if (!this.clients.has(c)) return // dropped: frames already read are ignored
    const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength
    const now = this.clock.now()
    if (!c.messages.take(1, now) || !c.bytes.take(size, now)) {
      this.stats.rateLimited++
      if (++c.dropped > this.init.maxDropped) return this.drop(c, 1008, 'rate limit exceeded')
      if (!c.limitedNotified) this.reject(c, 'rate-limited', 'too many messages: slow down; frames are being dropped')
      c.limitedNotified = true
      return
    }
    c.limitedNotified = false
    try {
      if (isBinary) return this.bad(c, 'binary frames are not part of the protocol')
      const frame = text(raw)
      const msg = parseClientMessage(frame, this.init.maxFrameBytes)
      if (msg === null) return this.bad(c, explainBadFrame(frame))
      c.lastSeenMs = now
      this.handle(c, msg)
    } catch (err) {
      this.log.error('handler failed', { addr: c.addr, err })
      this.bad(c, 'internal error on this message')
    }
  }

  private handle(c: Client, msg: ClientMessage): void {
    if (msg.t === 'auth') return c.id === undefined ? this.auth(c, msg.key, msg.sig) : this.reauth(c, c.id, msg.key, msg.sig)
    if (c.id === undefined) return this.bad(c, 'authenticate first', 'not-authenticated')
    if (msg.t === 'join') return this.join(c, c.id, msg.world)
    if (c.world === undefined) return this.bad(c, 'join a world first', 'not-joined')
    if (msg.t === 'ticket') return this.ticket(c, c.id, c.world, msg.x, msg.y)
    const target = this.byId.get(msg.to)
    if (target === undefined || target.world !== c.world || target === c) {
      return this.reject(c, 'unknown-peer', 'no such peer in your world', msg.to)
    }
    if (target.ws.bufferedAmount > this.init.maxBufferedBytes) return this.reject(c, 'peer-busy', 'peer is not reading', msg.to)
    this.send(target, { t: 'signal', from: c.id, initiator: msg.initiator, data: msg.data })
    this.stats.relayed++
  }

  /** A join ticket for `id` at (x, y) in `world`, if it could have walked there from its last one there (see src/von/join-tickets.ts). */
  private ticket(c: Client, id: PeerId, world: string, x: number, y: number): void {
    if (this.tickets === undefined) return this.reject(c, 'ticket-refused', 'this node issues no join tickets')
    // Each world is its own map: a player who switches worlds may stand anywhere in the next.
    const t = this.tickets.issue(id, x, y, world)
    if (t === 'too-soon') return this.reject(c, 'ticket-refused', 'one join ticket a second: ask again later')
    if (t === 'too-far') return this.reject(c, 'ticket-refused', 'too far from where your last join ticket put you for the world\'s speed limit')
    this.stats.tickets++
    this.send(c, { t: 'ticket', x: t.x, y: t.y, at: t.t, sig: t.sig })
  }

  private auth(c: Client, key: Uint8Array, sig: Uint8Array): void {
    // Before the verification: that is what an address would spend our CPU on.
    if (!this.admission.limits.takeAuth(c.address, this.clock.now())) {
      this.stats.authRateLimited++
      this.reject(c, 'rate-limited', 'too many authentications from your address: try again in a minute')
      return this.drop(c, 1013, 'too many authentications from this address')
    }
    if (!this.crypto.verify(key, authMessage(c.nonce), sig)) {
      this.reject(c, 'auth-failed', 'signature does not verify with this key and nonce')
      return this.drop(c, 1008, 'auth failed')
    }
    const id = peerIdFromPublicKey(this.crypto, key)
    const old = this.byId.get(id)
    if (old !== undefined) this.drop(old, 4000, 'replaced by a newer connection')
    clearTimeout(c.authTimer)
    c.id = id
    this.byId.set(id, c)
    this.stats.authenticated++
    this.log.info('authenticated', { addr: c.addr, peer: id.slice(0, 12) })
    const tickets = this.tickets === undefined ? {} : { tk: this.tickets.publicKey, now: this.clock.now() }
    this.send(c, { t: 'welcome', id, ice: this.grantIce(c, id), ...tickets })
    this.idle.watch(c)
  }

  /** An `auth` on an authenticated socket: the answer to an idle socket's fresh challenge, or a mistake. */
  private reauth(c: Client, id: PeerId, key: Uint8Array, sig: Uint8Array): void {
    const answer = this.idle.answer(c, id, key, sig)
    if (answer === 'unasked') return this.bad(c, 'already authenticated')
    if (answer === 'ok') return
    this.reject(c, 'auth-failed', 'the answer to the challenge does not verify with this connection\'s key')
    this.drop(c, 1008, 'auth failed')
  }

  /** The ICE servers for `c`, arming the renewal of its TURN credential at half its lifetime. */
  private grantIce(c: Client, id: PeerId): IceServer[] {
    const ice = this.init.ice
    if (ice.hasTurn) {
      clearTimeout(c.iceTimer)
      c.iceTimer = setTimeout(() => {
        if (!this.clients.has(c)) return
        this.stats.iceRenewals++
        this.send(c, { t: 'ice', ice: this.grantIce(c, id) })
      }, ice.renewAfterMs)
    }
    return ice.grant(id).servers
  }

  private join(c: Client, id: PeerId, world: string): void {
    const size = this.worlds.enter(c, id, world)
    if (size !== undefined) this.log.info('joined', { peer: id.slice(0, 12), world, size })
    this.send(c, { t: 'peers', world, peers: this.worlds.hosts(c) })
  }

  private bad(c: Client, message: string, code: ServerErrorCode = 'bad-frame'): void {
    this.stats.badFrames++
    this.reject(c, code, message)
    if (++c.bad > this.init.maxBadFrames) this.drop(c, 1008, 'too many malformed frames')
  }

  private reject(c: Client, code: ServerErrorCode, message: string, to?: PeerId): void {
    this.log.warn('rejected', { addr: c.addr, peer: c.id?.slice(0, 12), code, message })
    this.send(c, to === undefined ? { t: 'error', code, message } : { t: 'error', code, message, to })
  }

  private send(c: Client, msg: ServerMessage): void {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(encodeSignalingMessage(msg))
  }

  private drop(c: Client, code: number, reason: string): void {
    this.log.warn('closing', { addr: c.addr, peer: c.id?.slice(0, 12), code, reason })
    this.forget(c)
    c.ws.close(code, reason)
  }

  /** Removes every trace of `c`; idempotent. */
  private forget(c: Client): void {
    clearTimeout(c.authTimer)
    clearTimeout(c.iceTimer)
    this.idle.unwatch(c)
    if (!this.clients.delete(c)) return
    this.admission.limits.remove(c.address, c)
    this.worlds.leave(c)
    if (c.id !== undefined && this.byId.get(c.id) === c) this.byId.delete(c.id)
  }

  private beat(): void {
    this.admission.limits.prune(this.clock.now())
    for (const c of [...this.clients]) {
      if (!c.alive) {
        this.stats.heartbeatTimeouts++
        this.log.warn('heartbeat timeout', { addr: c.addr, peer: c.id?.slice(0, 12) })
        this.forget(c)
        c.ws.terminate()
        continue
      }
      c.alive = false
      c.ws.ping()
    }
  }
}

function text(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8')
  return Buffer.from(raw as ArrayBuffer).toString('utf8')
}
