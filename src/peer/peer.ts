import { P2PError } from '../core/errors.js'
import { peerIdFromPublicKey, type PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import type { SignalData } from '../link/transport.js'
import type { VonPeer } from '../von/von-peer.js'
import { orderGateways } from './gateways.js'
import { PeerCache } from './peer-cache.js'
import { resolveTunables, type PeerComponents, type PeerInit, type PeerState, type PeerStats, type PeerTunables } from './peer-options.js'
import { Session, type PeerService } from './session.js'

export type { BootstrapNode, PeerComponents, PeerInit, PeerListener, PeerState, PeerStats } from './peer-options.js'

/** VonPeer's default join timeout: a join with n gateways takes at most n of these. */
const VON_JOIN_TIMEOUT_MS = 5000

/**
 * One peer of the world: the links, the VON overlay and (later) the DHT and
 * player-state services on them, for a given Transport and bootstrap node.
 * It enters through the three bootstrap sources of seed 003 (the node's host
 * cache, the peers cached from the last session, a manual list), and rejoins by
 * itself when it loses every link: through its cached peers, then the node.
 */
export class Peer {
  readonly id: PeerId
  readonly cache: PeerCache
  private readonly c: PeerComponents
  private readonly cfg: PeerTunables
  private readonly init: PeerInit
  private readonly manual: readonly PeerId[]
  private session: Session
  private current: PeerState = 'idle'
  private wantX = 0
  private wantY = 0
  private readonly positions = new Map<PeerId, { x: number; y: number }>()
  private past = { introduced: 0, viaSignaling: 0, dialledIntro: 0, dialledSignaling: 0 }
  private rejoins = 0
  private joinMs: number | undefined
  private joinStartedAt = 0
  private joinDeadline = 0
  private aloneSince: number | undefined
  private readyAt: number | undefined
  private hostRefreshAt = 0
  private nextRejoinAt = 0
  private backoffMs: number
  private metAnyone = false
  /** Gateways of the last join, and until when those of a join nobody answered are skipped. */
  private tried: readonly PeerId[] = []
  private readonly unresponsive = new Map<PeerId, number>()
  private timer: unknown = undefined

  constructor(components: PeerComponents, init: PeerInit = {}) {
    this.c = components
    this.init = init
    this.id = peerIdFromPublicKey(components.env.crypto, components.keyPair.publicKey)
    this.manual = (init.manualPeers ?? []).filter((p) => p !== this.id).slice(0, 64)
    this.cfg = resolveTunables(init)
    this.backoffMs = this.cfg.rejoinBackoffMinMs
    this.cache = new PeerCache({ env: components.env }, init.cache)
    this.session = this.newSession()
  }

  get state(): PeerState {
    return this.current
  }

  /** The current session's links (a rejoin replaces them). */
  get links(): LinkManager {
    return this.session.links
  }

  /** The current session's overlay. */
  get von(): VonPeer {
    return this.session.von
  }

  get services(): readonly PeerService[] {
    return this.session.services
  }

  /** The current session's service called `name` (e.g. `DHT_SERVICE`), if it runs one. */
  service<T extends PeerService>(name: string): T | undefined {
    return this.session.services.find((s) => s.name === name) as T | undefined
  }

  /** Where this peer is (or will enter). */
  get x(): number {
    return this.wantX
  }

  get y(): number {
    return this.wantY
  }

  /** Reads the cached peers of the last session; call before `join` to bootstrap through them. */
  load(): Promise<void> {
    return this.cache.load()
  }

  /**
   * Enters the world at (x, y): through the bootstrap sources once the node
   * answered, or as its first peer when the node knows nobody else.
   */
  join(x: number, y: number): void {
    if (this.current !== 'idle') throw P2PError.INVALID_ARGUMENT(`join while ${this.current}`)
    this.wantX = x
    this.wantY = y
    this.setState('waiting')
    this.ensureTicking()
    this.tryEnter()
  }

  /**
   * Moves to (x, y) at velocity (vx, vy) units/s (estimated when not given);
   * neighbours predict us from it (VonPeer.move). Returns whether a MOVE went out.
   */
  move(x: number, y: number, vx?: number, vy?: number): boolean {
    this.wantX = x
    this.wantY = y
    return (this.current === 'joining' || this.current === 'joined') && this.session.von.move(x, y, vx, vy)
  }

  /** Leaves the world (BYE to every neighbour); `join` may be called again. */
  leave(): void {
    if (this.current === 'closed' || this.current === 'idle') return
    this.renewSession()
    this.setState('idle')
  }

  /** Neighbours and where this peer believes they are. */
  neighbours(): { id: PeerId; x: number; y: number }[] {
    return [...this.session.von.table.values()].map((n) => ({ id: n.id, x: n.x, y: n.y }))
  }

  /** Signaling the bootstrap node relayed to us. */
  receiveSignal(from: PeerId, initiator: boolean, data: SignalData): void {
    if (this.current !== 'closed') this.session.links.receiveSignal(from, initiator, data, null)
  }

  /** The node sent a fresh host cache: a waiting peer can enter now. */
  hostsChanged(): void {
    if (this.current === 'waiting') this.tryEnter()
  }

  /** A peer is known to be gone (the node does not know it): drop it from the cache. */
  forget(id: PeerId): void {
    this.cache.forget(id)
    this.session.links.signalFailed(id, 'unknown-peer')
  }

  stats(): PeerStats {
    const l = this.session.links
    const open = l.openPeers().length
    return {
      state: this.current,
      neighbours: this.session.von.table.size,
      links: { open, connecting: l.linkCount - open },
      introduced: this.past.introduced + l.stats.introduced,
      viaSignaling: this.past.viaSignaling + l.stats.viaSignaling,
      dialled: {
        introduced: this.past.dialledIntro + this.session.dialled.introduced,
        viaSignaling: this.past.dialledSignaling + this.session.dialled.viaSignaling,
      },
      queues: l.totalQueueStats(),
      rejoins: this.rejoins,
      joinMs: this.joinMs,
    }
  }

  /** Leaves, closes every link and saves the cache. */
  async close(): Promise<void> {
    if (this.current === 'closed') return
    if (this.timer !== undefined) this.c.env.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.session.close()
    this.setState('closed')
    await this.cache.close()
  }

  // ---- entering and rejoining ----

  private get nodeUp(): boolean {
    return this.c.node === undefined || this.c.node.state === 'joined'
  }

  private gateways(rejoin: boolean): PeerId[] {
    const now = this.c.env.clock.now()
    const ok = (p: PeerId): boolean => (this.unresponsive.get(p) ?? 0) <= now
    const cached = this.cache.nearest(this.wantX, this.wantY).map((p) => p.id).filter(ok).slice(0, this.cfg.maxCachedGateways)
    const hosts = (this.c.node?.hosts ?? []).filter(ok)
    return orderGateways(this.id, { manual: this.manual.filter(ok), hosts, cached }, rejoin, this.cfg.maxGateways)
  }

  /** First entry: without the node no first link can open, so wait for its host cache. */
  private tryEnter(): void {
    if (!this.nodeUp) return
    // The node answered and knows nobody else in this world: we are its first peer.
    const empty = this.c.node !== undefined && this.c.node.hosts.length === 0
    this.startJoin(empty ? [] : this.gateways(false))
  }

  private startJoin(gateways: readonly PeerId[]): void {
    const now = this.c.env.clock.now()
    this.joinStartedAt = now
    this.tried = gateways
    this.session.von.join(this.wantX, this.wantY, gateways)
    if (this.session.von.joined) return this.joined(now)
    const perGatewayMs = this.init.von?.joinTimeoutMs ?? VON_JOIN_TIMEOUT_MS
    this.joinDeadline = now + gateways.length * perGatewayMs + this.cfg.joinGraceMs
    this.setState('joining')
  }

  private joined(now: number): void {
    this.joinMs = now - this.joinStartedAt
    this.aloneSince = undefined
    if (this.tried.length > 0) this.unresponsive.clear()
    this.setState('joined')
  }

  /** No gateway answered: start afresh as a world of one, and merge later (see `watchAlone`). */
  private abandonJoin(now: number): void {
    this.c.env.log.info('peer: join abandoned, alone for now', { peer: this.id.slice(0, 12), gateways: this.tried.length })
    // Bounded: at most maxGateways per abandoned join, and cleared by the next join that works.
    if (this.unresponsive.size > 64) this.unresponsive.clear()
    for (const g of this.tried) this.unresponsive.set(g, now + this.cfg.unresponsiveMs)
    this.delayRejoin(now)
    this.startJoin([])
  }

  /**
   * A peer without links is cut off (it lost them, or it founded a world that
   * others entered elsewhere). Rejoin through the cached peers and the node's
   * hosts; a founder that never met anyone waits until the node lists others.
   */
  private watchAlone(now: number): void {
    if (!this.session.alone) {
      this.aloneSince = undefined
      this.readyAt = undefined
      this.backoffMs = this.cfg.rejoinBackoffMinMs
      return
    }
    if (this.aloneSince === undefined) {
      this.aloneSince = now
      this.hostRefreshAt = now
    }
    if (!this.nodeUp) return
    if (now >= this.hostRefreshAt) {
      this.hostRefreshAt = now + this.cfg.hostRefreshMs
      this.c.node?.refreshHosts()
    }
    // A peer that lost its neighbours tries them first (near, likely alive); a founder that never
    // met anyone enters like a newcomer, once the node lists someone.
    const listed = (this.c.node?.hosts.length ?? 0) > 0
    const gateways = this.metAnyone ? this.gateways(true) : listed ? this.gateways(false) : []
    if (gateways.length === 0) {
      this.readyAt = undefined
      return
    }
    // Wait a while once gateways appear: two lone founders that see each other at once must
    // not dial each other in step (a joining peer answers no query). The one with the larger
    // id goes first; the other waits longer, and by then has usually been dialled.
    const yields = !this.metAnyone && gateways.every((g) => g > this.id)
    const wait = this.cfg.aloneGraceMs * ((yields ? 5 : 1) + 2 * this.c.env.rng.next())
    this.readyAt ??= now + wait
    if (now < this.readyAt || now < this.nextRejoinAt) return
    this.readyAt = undefined
    this.rejoins++
    this.c.env.log.info('peer: alone, rejoining', { peer: this.id.slice(0, 12), gateways: gateways.length })
    this.delayRejoin(now)
    // The same session joins again: its links and services (the DHT store) live on.
    this.startJoin(gateways)
  }

  private delayRejoin(now: number): void {
    this.nextRejoinAt = now + this.backoffMs * (0.75 + 0.5 * this.c.env.rng.next())
    this.backoffMs = Math.min(this.cfg.rejoinBackoffMaxMs, this.backoffMs * 2)
  }

  private tick(): void {
    const now = this.c.env.clock.now()
    switch (this.current) {
      case 'waiting':
        return this.tryEnter()
      case 'joining':
        if (this.session.von.joined) return this.joined(now)
        if (now > this.joinDeadline) return this.abandonJoin(now)
        return
      case 'joined':
        return this.watchAlone(now)
      default:
        return
    }
  }

  private ensureTicking(): void {
    if (this.timer !== undefined) return
    const tick = (): void => {
      this.timer = undefined
      if (this.current === 'closed') return
      this.tick()
      this.timer = this.c.env.timers.setTimeout(tick, this.cfg.tickMs)
    }
    this.timer = this.c.env.timers.setTimeout(tick, this.cfg.tickMs)
  }

  // ---- sessions ----

  private newSession(): Session {
    const listener = this.c.listener
    return new Session(
      {
        env: this.c.env,
        localId: this.id,
        keyPair: this.c.keyPair,
        transport: this.c.transport,
        signaling: this.c.node,
        tickets: this.c.node?.tickets,
        von: {
          onEnter: (id, x, y) => {
            // The acceptor is the first neighbour a joiner inserts: the join is complete.
            if (this.current === 'joining' && this.session.von.joined) this.joined(this.c.env.clock.now())
            this.metAnyone = true
            this.positions.set(id, { x, y })
            this.cache.seen(id, x, y)
            listener?.onEnter?.(id, x, y)
          },
          onMove: (id, x, y, vx, vy) => {
            this.positions.set(id, { x, y })
            listener?.onMove?.(id, x, y, vx, vy)
          },
          onLeave: (id) => {
            const at = this.positions.get(id)
            this.positions.delete(id)
            if (at !== undefined) this.cache.seen(id, at.x, at.y)
            listener?.onLeave?.(id)
          },
        },
      },
      { link: this.init.link ?? {}, von: this.init.von ?? {}, services: this.init.services ?? [] },
    )
  }

  /** Closes the session (its neighbours hear BYE) and starts a fresh one, keeping the counters. */
  private renewSession(): void {
    const old = this.session
    const s = old.links.stats
    this.past.introduced += s.introduced
    this.past.viaSignaling += s.viaSignaling
    this.past.dialledIntro += old.dialled.introduced
    this.past.dialledSignaling += old.dialled.viaSignaling
    old.close()
    this.session = this.newSession()
  }

  private setState(state: PeerState): void {
    if (state === this.current) return
    this.current = state
    this.c.listener?.onState?.(state)
  }
}
