import type { Clock, Crypto, KeyPair, Log, Rng, TimerHandle, Timers } from '../../core/env.js'
import type { JoinTicket } from '../../von/join-tickets.js'
import { NodeTickets } from './node-tickets.js'
import { peerIdFromPublicKey, type PeerId } from '../../core/id.js'
import type { SignalingChannel } from '../../link/link-manager.js'
import type { SignalData } from '../../link/transport.js'
import type { IceServer } from '../ice-servers.js'
import {
  authMessage, encodeSignalingMessage, MAX_SIGNALING_FRAME_BYTES, parseServerMessage, SIGNALING_VERSION,
  type ClientMessage, type ServerMessage,
} from './signaling-protocol.js'

/** The part of a WebSocket the client uses; the browser's and `ws`'s both have it. */
interface Socket {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}

const OPEN = 1

export interface SignalingClientComponents {
  keyPair: KeyPair
  crypto: Crypto
  timers: Timers
  /** Jitter for the reconnection backoff. */
  rng: Rng
  log: Log
  /** A WebSocket class with the browser's API: `globalThis.WebSocket`, or `WebSocket` from `ws` in Node. */
  WebSocket: new (url: string) => object
  /** The peer's clock (join tickets carry the node's: see NodeTickets). @default performance.now() */
  clock?: Clock
}

export interface SignalingClientInit {
  /** ws:// or wss:// URL of the signaling node. */
  url: string
  /** The world (room) to join. */
  world: string
  /** Signaling relayed by the node; hand it to `LinkManager.receiveSignal(from, initiator, data, null)`. */
  onSignal(from: PeerId, initiator: boolean, data: SignalData): void
  /** A fresh host cache (live peers of the world), after every join. */
  onHosts?(hosts: readonly PeerId[]): void
  /**
   * The STUN and TURN servers the node hands out, in its welcome and again
   * before a TURN credential expires. Credentials are secrets of this peer:
   * never log them.
   */
  onIce?(servers: readonly IceServer[]): void
  /**
   * The node closed this socket because the same identity connected again
   * elsewhere (another tab or browser): the client stops instead of taking the
   * identity back, which would knock the other copy off in turn, forever.
   * {@link SignalingClient.takeOver} connects again when the person asks.
   */
  onReplaced?(): void
  /** An error the node reported, e.g. 'unknown-peer' for a relay whose target left. */
  onError?(code: string, message: string, to?: PeerId): void
  /** First reconnection delay; doubles per failed attempt. @default 500 */
  backoffMinMs?: number
  /** @default 30000 */
  backoffMaxMs?: number
  /** A socket that has not joined by then is dropped and retried. @default 10000 */
  joinTimeoutMs?: number
  /** @default 65536 */
  maxFrameBytes?: number
}

export type SignalingState = 'idle' | 'connecting' | 'joined' | 'backoff' | 'replaced' | 'closed'

/** The close code the node sends to the older of two connections of one identity. */
export const CLOSE_REPLACED = 4000

/** A ticket the node has not sent by then is given up on (the join goes on without). */
const TICKET_WAIT_MS = 3000
const MAX_PENDING_TICKETS = 4

/**
 * A peer's connection to the signaling node: proves its id, joins a world, keeps
 * the host cache, and relays signaling both ways for the link layer (it is the
 * LinkManager's {@link SignalingChannel}). A lost socket is retried with
 * exponential backoff and jitter, forever: a peer that stays up should find the
 * node again whenever it comes back, and the delay is capped.
 */
export class SignalingClient implements SignalingChannel {
  readonly id: PeerId
  /** Live peers of the world from the last join. */
  hosts: readonly PeerId[] = []
  /** The ICE servers the node handed out last; undefined before a welcome (or from a node that hands none). */
  iceServers: readonly IceServer[] | undefined
  readonly stats = { connects: 0, joins: 0, sent: 0, received: 0, tickets: 0, ticketsRefused: 0 }
  /** The node's join tickets, as this peer asks for and checks them (see von/join-tickets.ts). */
  readonly tickets: NodeTickets
  /** Ticket requests awaiting the node's answer, oldest first (it answers in order). */
  private readonly pendingTickets: { done: (t: JoinTicket | undefined) => void; timer: TimerHandle }[] = []
  private readonly c: SignalingClientComponents
  private readonly init: SignalingClientInit & Required<Pick<SignalingClientInit, 'backoffMinMs' | 'backoffMaxMs' | 'joinTimeoutMs' | 'maxFrameBytes'>>
  private current: SignalingState = 'idle'
  private socket: Socket | undefined
  private attempt = 0
  private timer: TimerHandle | undefined

  constructor(components: SignalingClientComponents, init: SignalingClientInit) {
    this.c = components
    this.id = peerIdFromPublicKey(components.crypto, components.keyPair.publicKey)
    this.init = {
      ...init,
      backoffMinMs: init.backoffMinMs ?? 500,
      backoffMaxMs: init.backoffMaxMs ?? 30_000,
      joinTimeoutMs: init.joinTimeoutMs ?? 10_000,
      maxFrameBytes: init.maxFrameBytes ?? MAX_SIGNALING_FRAME_BYTES,
    }
    this.tickets = new NodeTickets(this, components.crypto, components.clock ?? { now: () => performance.now() })
  }

  /**
   * Asks the node for a join ticket for us at (x, y): `done` gets it, or
   * undefined when the node refuses, does not answer within TICKET_WAIT_MS,
   * or is not reachable.
   */
  requestTicket(x: number, y: number, done: (ticket: JoinTicket | undefined) => void): void {
    if (this.current !== 'joined' || this.pendingTickets.length >= MAX_PENDING_TICKETS || !this.write({ t: 'ticket', x, y })) return done(undefined)
    const entry = {
      done,
      timer: this.c.timers.setTimeout(() => {
        const i = this.pendingTickets.indexOf(entry)
        if (i >= 0) this.pendingTickets.splice(i, 1)
        done(undefined)
      }, TICKET_WAIT_MS),
    }
    this.pendingTickets.push(entry)
  }

  private answerTicket(ticket: JoinTicket | undefined): void {
    const entry = this.pendingTickets.shift()
    if (entry === undefined) return
    this.c.timers.clearTimeout(entry.timer)
    entry.done(ticket)
  }

  get state(): SignalingState {
    return this.current
  }

  /** Connects (and keeps reconnecting) until {@link close}. */
  start(): void {
    if (this.current === 'idle') this.connect()
  }

  /** Relays signaling to `to` through the node; false when not joined (the link layer then fails the attempt). */
  send(to: PeerId, initiator: boolean, data: SignalData): boolean {
    if (this.current !== 'joined') return false
    if (!this.write({ t: 'signal', to, initiator, data })) return false
    this.stats.sent++
    return true
  }

  /** Asks for a fresh host cache (e.g. after losing every link); false when not joined. */
  refreshHosts(): boolean {
    return this.current === 'joined' && this.write({ t: 'join', world: this.init.world })
  }

  /** After {@link SignalingClientInit.onReplaced}: connects again, taking the identity back from the other copy. */
  takeOver(): void {
    if (this.current !== 'replaced') return
    this.attempt = 0
    this.connect()
  }

  close(): void {
    if (this.current === 'closed') return
    this.current = 'closed'
    this.clearTimer()
    this.detach()?.close(1000, 'bye')
  }

  private connect(): void {
    this.current = 'connecting'
    this.stats.connects++
    let socket: Socket
    try {
      socket = new this.c.WebSocket(this.init.url) as Socket
    } catch (err) {
      this.c.log.warn('signaling: cannot open socket', { url: this.init.url, err })
      return this.retry()
    }
    this.socket = socket
    socket.onmessage = (event) => this.socket === socket && this.onMessage(event.data)
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      if (event.code === CLOSE_REPLACED) return this.replaced()
      this.lost(`closed ${event.code} ${event.reason}`)
    }
    socket.onerror = () => this.socket === socket && this.lost('socket error')
    this.timer = this.c.timers.setTimeout(() => this.lost('join timeout'), this.init.joinTimeoutMs)
  }

  private onMessage(raw: unknown): void {
    const msg = parseServerMessage(raw, this.init.maxFrameBytes)
    if (msg === null) return this.c.log.warn('signaling: malformed frame from the node', {})
    this.handle(msg)
  }

  private handle(msg: ServerMessage): void {
    switch (msg.t) {
      case 'challenge': {
        if (msg.v !== SIGNALING_VERSION) return this.lost(`protocol version ${msg.v}, want ${SIGNALING_VERSION}`)
        const { publicKey } = this.c.keyPair
        this.write({ t: 'auth', key: publicKey, sig: this.c.keyPair.sign(authMessage(msg.nonce)) })
        return
      }
      case 'welcome':
        if (msg.id !== this.id) return this.lost('node derived another peer id')
        if (msg.ice !== undefined) this.setIce(msg.ice)
        this.tickets.welcome(msg.tk, msg.now)
        this.write({ t: 'join', world: this.init.world })
        return
      case 'ice':
        return this.setIce(msg.ice)
      case 'peers':
        if (this.current === 'connecting') {
          this.clearTimer()
          this.attempt = 0
          this.current = 'joined'
          this.stats.joins++
          this.c.log.info('signaling: joined', { world: msg.world, hosts: msg.peers.length })
        }
        this.hosts = msg.peers.filter((p) => p !== this.id)
        this.init.onHosts?.(this.hosts)
        return
      case 'signal':
        if (this.current !== 'joined') return
        this.stats.received++
        this.init.onSignal(msg.from, msg.initiator, msg.data)
        return
      case 'ticket':
        this.stats.tickets++
        this.tickets.heard(msg.at)
        return this.answerTicket({ x: msg.x, y: msg.y, t: msg.at, sig: msg.sig })
      case 'error':
        if (msg.code === 'ticket-refused') {
          this.stats.ticketsRefused++
          this.answerTicket(undefined)
        }
        this.c.log.debug('signaling: node reported an error', { code: msg.code, message: msg.message, to: msg.to?.slice(0, 12) })
        this.init.onError?.(msg.code, msg.message, msg.to)
    }
  }

  private setIce(servers: IceServer[]): void {
    this.iceServers = servers
    this.init.onIce?.(servers)
  }

  private write(msg: ClientMessage): boolean {
    const socket = this.socket
    if (socket === undefined || socket.readyState !== OPEN) return false
    try {
      const text = encodeSignalingMessage(msg)
      if (text.length > this.init.maxFrameBytes) return false
      socket.send(text)
      return true
    } catch {
      return false
    }
  }

  private lost(reason: string): void {
    if (this.current === 'closed') return
    while (this.pendingTickets.length > 0) this.answerTicket(undefined)
    this.c.log.info('signaling: connection lost', { reason, peer: this.id.slice(0, 12) })
    this.clearTimer()
    this.detach()?.close(1000, 'retry')
    this.retry()
  }

  private replaced(): void {
    this.c.log.warn('signaling: this identity connected elsewhere; not reconnecting', { peer: this.id.slice(0, 12) })
    this.clearTimer()
    this.detach()
    this.current = 'replaced'
    this.init.onReplaced?.()
  }

  private retry(): void {
    this.current = 'backoff'
    const base = Math.min(this.init.backoffMaxMs, this.init.backoffMinMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    const delayMs = base * (0.5 + 0.5 * this.c.rng.next())
    this.timer = this.c.timers.setTimeout(() => {
      this.timer = undefined
      if (this.current === 'backoff') this.connect()
    }, delayMs)
  }

  /** Silences and forgets the current socket, returning it. */
  private detach(): Socket | undefined {
    const socket = this.socket
    this.socket = undefined
    if (socket !== undefined) {
      socket.onmessage = null
      socket.onclose = null
      socket.onerror = () => {}
    }
    return socket
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.c.timers.clearTimeout(this.timer)
    this.timer = undefined
  }
}
