import { toHex } from '../core/bytes.js'
import type { Env } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import type { ConnectResult, LinkProtocol, MessageHandler, SendResult } from '../link/link-manager.js'
import type { LinkState } from '../link/link.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import type { DhtErrorCode } from './errors.js'
import {
  KadMsg,
  Status,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  EMPTY_RESPONSE,
  type Request,
  type Response,
} from './messages.js'

/** What the DHT needs from the link layer (a LinkManager, or a fake in tests). */
export interface DhtLinks {
  register(protocol: LinkProtocol): void
  handle(proto: number, type: number, handler: MessageHandler): void
  connect(peer: PeerId, opts?: { via?: PeerId }): ConnectResult
  send(peer: PeerId, proto: number, type: number, payload: unknown, priority: Priority): SendResult
  linkState(peer: PeerId): LinkState | undefined
}

/** Why a request was made: maintenance (join, refresh, pings, replication) or the application's puts and gets. */
export type Purpose = 'maintenance' | 'app'

export type RpcOutcome = { readonly ok: true; readonly res: Response } | { readonly ok: false; readonly code: DhtErrorCode }

export interface RpcInit {
  /** Give up on a request after this long, link setup included. @default 4000 */
  timeoutMs?: number
  /** Requests in flight at most. @default 512 */
  maxPending?: number
  /** Peers remembered as having presented a key that does not match their id. @default 256 */
  maxBadPeers?: number
}

export interface RpcComponents {
  env: Pick<Env, 'clock' | 'timers' | 'crypto'>
  links: DhtLinks
  localId: PeerId
  publicKey: Uint8Array
}

export interface RpcHandlers {
  /** A verified peer sent us a well-formed message. */
  onSeen(peer: PeerId): void
  /** Answers a request from a verified peer; never throws. */
  onRequest(from: PeerId, req: Request): Response
}

export interface RpcStats {
  requestsSent: number
  requestsReceived: number
  timeouts: number
  failures: number
  bytesSent: number
  bytesReceived: number
  /** Request and response bytes of our maintenance requests. */
  maintenanceBytes: number
  /** Request and response bytes of our application requests. */
  appBytes: number
  badMessages: number
  /** Messages from peers whose key did not hash to their id. */
  badKeys: number
}

interface Pending {
  readonly peer: PeerId
  readonly purpose: Purpose
  readonly cb: (outcome: RpcOutcome) => void
  timer: unknown
}

const KAD = PROTOCOL.KADEMLIA

/**
 * Requests and responses over the shared links: request ids, per-request
 * timeouts, a bounded table of requests in flight, and the binding of each
 * peer's id to its public key (presented once per link, checked by hash).
 */
export class Rpc {
  readonly stats: RpcStats = {
    requestsSent: 0,
    requestsReceived: 0,
    timeouts: 0,
    failures: 0,
    bytesSent: 0,
    bytesReceived: 0,
    maintenanceBytes: 0,
    appBytes: 0,
    badMessages: 0,
    badKeys: 0,
  }
  private readonly init: Required<RpcInit>
  private readonly pending = new Map<number, Pending>()
  private readonly byPeer = new Map<PeerId, Set<number>>()
  private readonly keySent = new Set<PeerId>()
  private readonly verified = new Set<PeerId>()
  private readonly bad = new Set<PeerId>()
  private nextRid: number
  private stopped = false

  constructor(
    private readonly c: RpcComponents,
    init: RpcInit,
    private readonly handlers: RpcHandlers,
  ) {
    this.init = { timeoutMs: init.timeoutMs ?? 4000, maxPending: init.maxPending ?? 512, maxBadPeers: init.maxBadPeers ?? 256 }
    this.nextRid = 1
    for (const op of [KadMsg.PING, KadMsg.FIND_NODE, KadMsg.FIND_VALUE, KadMsg.STORE, KadMsg.ADD_PROVIDER, KadMsg.KEEP]) {
      c.links.handle(KAD, op, (from, payload) => this.onRequestFrame(op, from, payload))
    }
    c.links.handle(KAD, KadMsg.RESPONSE, (from, payload) => this.onResponseFrame(from, payload))
  }

  get inFlight(): number {
    return this.pending.size
  }

  hasPending(peer: PeerId): boolean {
    return this.byPeer.has(peer)
  }

  isVerified(peer: PeerId): boolean {
    return this.verified.has(peer)
  }

  /**
   * Sends a request, opening a link first if needed (introduced by `via`, the
   * peer that told us about `peer`). `cb` runs exactly once, never synchronously.
   */
  request(peer: PeerId, req: Request, opts: { via?: PeerId | undefined; purpose: Purpose }, cb: (outcome: RpcOutcome) => void): void {
    const fail = (code: DhtErrorCode): void => {
      this.stats.failures++
      this.c.env.timers.setTimeout(() => cb({ ok: false, code }), 0)
    }
    if (this.stopped) return fail('STOPPED')
    if (this.pending.size >= this.init.maxPending) return fail('BUSY')
    if (this.c.links.linkState(peer) === undefined) {
      const r = this.c.links.connect(peer, opts.via === undefined ? {} : { via: opts.via })
      if (r === 'limit' || r === 'self') return fail('NO_LINK')
    }
    const rid = this.nextRid
    this.nextRid = this.nextRid >= 0xffffffff ? 1 : this.nextRid + 1
    const withKey = !this.keySent.has(peer)
    const bytes = encodeRequest(rid, withKey ? this.c.publicKey : null, req)
    const sent = this.c.links.send(peer, KAD, req.op, bytes, Priority.MEDIUM)
    if (sent === 'rejected' || sent === 'no-link') return fail(sent === 'rejected' ? 'BUSY' : 'NO_LINK')
    if (withKey) this.keySent.add(peer)
    this.stats.bytesSent += bytes.length
    this.account(bytes.length, opts.purpose)
    this.stats.requestsSent++
    const p: Pending = { peer, purpose: opts.purpose, cb, timer: undefined }
    p.timer = this.c.env.timers.setTimeout(() => {
      this.stats.timeouts++
      this.settle(rid, { ok: false, code: 'TIMEOUT' })
    }, this.init.timeoutMs)
    this.pending.set(rid, p)
    let set = this.byPeer.get(peer)
    if (set === undefined) this.byPeer.set(peer, (set = new Set()))
    set.add(rid)
  }

  /** The link to `peer` closed: its requests fail now, and it must present its key again. */
  linkClosed(peer: PeerId): void {
    this.keySent.delete(peer)
    this.verified.delete(peer)
    const rids = this.byPeer.get(peer)
    if (rids === undefined) return
    for (const rid of [...rids]) this.settle(rid, { ok: false, code: 'LINK_CLOSED' })
  }

  /** Fails every request in flight and ignores further traffic. */
  stop(): void {
    this.stopped = true
    for (const rid of [...this.pending.keys()]) this.settle(rid, { ok: false, code: 'STOPPED' })
  }

  private settle(rid: number, outcome: RpcOutcome): void {
    const p = this.pending.get(rid)
    if (p === undefined) return
    this.pending.delete(rid)
    const set = this.byPeer.get(p.peer)
    set?.delete(rid)
    if (set?.size === 0) this.byPeer.delete(p.peer)
    this.c.env.timers.clearTimeout(p.timer)
    if (!outcome.ok) this.stats.failures++
    p.cb(outcome)
  }

  private account(bytes: number, purpose: Purpose): void {
    if (purpose === 'maintenance') this.stats.maintenanceBytes += bytes
    else this.stats.appBytes += bytes
  }

  /** Checks a presented key; false when the peer must be ignored. */
  private admit(from: PeerId, publicKey: Uint8Array | null): boolean {
    if (this.bad.has(from)) return false
    if (publicKey === null || this.verified.has(from)) return true
    if (toHex(this.c.env.crypto.sha256(publicKey)) !== from) {
      this.stats.badKeys++
      if (this.bad.size >= this.init.maxBadPeers) this.bad.delete(this.bad.values().next().value as PeerId)
      this.bad.add(from)
      return false
    }
    this.verified.add(from)
    return true
  }

  private onRequestFrame(op: number, from: PeerId, payload: unknown): void {
    if (this.stopped) return
    const env = decodeRequest(op, payload)
    if (env === null) {
      this.stats.badMessages++
      return
    }
    if (!this.admit(from, env.publicKey)) return
    this.stats.bytesReceived += (payload as Uint8Array).length
    this.stats.requestsReceived++
    let res: Response
    if (this.verified.has(from)) {
      this.handlers.onSeen(from)
      res = this.handlers.onRequest(from, env.body)
    } else {
      res = { ...EMPTY_RESPONSE, status: Status.NEED_KEY }
    }
    const withKey = !this.keySent.has(from)
    const bytes = encodeResponse(env.rid, withKey ? this.c.publicKey : null, res)
    const sent = this.c.links.send(from, KAD, KadMsg.RESPONSE, bytes, Priority.MEDIUM)
    if (sent === 'rejected' || sent === 'no-link') return
    if (withKey) this.keySent.add(from)
    this.stats.bytesSent += bytes.length
  }

  private onResponseFrame(from: PeerId, payload: unknown): void {
    if (this.stopped) return
    const env = decodeResponse(payload)
    if (env === null) {
      this.stats.badMessages++
      return
    }
    if (!this.admit(from, env.publicKey)) return
    const size = (payload as Uint8Array).length
    this.stats.bytesReceived += size
    const p = this.pending.get(env.rid)
    if (p === undefined || p.peer !== from) return
    this.account(size, p.purpose)
    if (!this.verified.has(from)) return this.settle(env.rid, { ok: false, code: 'NEED_KEY' })
    if (env.body.status === Status.NEED_KEY) {
      this.keySent.delete(from)
      return this.settle(env.rid, { ok: false, code: 'NEED_KEY' })
    }
    this.handlers.onSeen(from)
    this.settle(env.rid, { ok: true, res: env.body })
  }
}
