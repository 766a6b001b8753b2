import type { Env } from '../core/env.js'
import { P2PError } from '../core/errors.js'
import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { jitterOf, type Site } from './geometry.js'
import { VonMsg, encodeState, knownBytes, type NodeInfo, type State } from './messages.js'
import { NeighbourTable, type Neighbour } from './neighbour-table.js'
import type { VonContext } from './von-context.js'
import { CROWDED_TABLE, Housekeeping } from './von-housekeeping.js'
import { Joining } from './von-join.js'
import { NeighbourMessages } from './von-neighbours.js'
import type { JoinTickets } from './join-tickets.js'

export interface VonInit {
  /** AOI radius (world units). @default 200 */
  aoiRadius?: number
  /**
   * Margin beyond the AOI inside which neighbours are already discovered, so they
   * are known before they enter the AOI. VAST's rule: speed x 3 hops x 2.
   * @default 30
   */
  buffer?: number
  /** Housekeeping period: notifications, drops, crowding control. @default 200 */
  tickMs?: number
  /** A neighbour neither enclosing nor within AOI + 1.25 buffer this long is dropped. @default 2000 */
  dropAfterMs?: number
  /** Crowding control: shrink the AOI while more AOI neighbours than this. @default 40 */
  maxAoiNeighbours?: number
  /** The AOI never shrinks below this fraction of `aoiRadius`. @default 0.1 */
  minAoiFraction?: number
  /** Hard cap on the neighbour table (the link cap bounds links anyway). @default 90 */
  maxNeighbours?: number
  /** A join query unanswered this long is sent again through the next gateway. @default 5000 */
  joinTimeoutMs?: number
  /**
   * Each neighbour hears its full relevant set from us this often, in round
   * robin (in a crowd as id prefixes, SYNC, and it asks for those it misses): a
   * notice that did not lead to a link (an introduction that failed) is
   * otherwise never repeated while the pair stays relevant. @default 5000
   */
  resyncMs?: number
  /**
   * Dead reckoning: neighbours predict us from our last MOVE's position and
   * velocity; we send again when that prediction is this far (units) from
   * where we are, or will be by our next move at our new velocity. 0: every
   * move is sent. @default 1
   */
  moveErrorMax?: number
  /** A MOVE goes out at least this often while neighbours' predictions hold (liveness, lost digests). @default 3000 */
  moveHeartbeatMs?: number
  /**
   * The map (world units): a neighbour's position outside [0, width] x [0, height]
   * is clamped and counted against it (world-rules.ts). The AOI a neighbour may
   * claim is at most `aoiRadius` (every peer of a world has the same). @default Infinity (no edge)
   */
  width?: number
  /** @default Infinity */
  height?: number
  /** Fastest a neighbour may move (units/s); a faster move is clamped and counted against it. @default Infinity */
  speedMax?: number
}

/** What the game hears from the overlay. */
export interface VonListener {
  onEnter?(id: PeerId, x: number, y: number): void
  /** A neighbour's MOVE: where it was when it sent it, and its velocity (units/s; predict it from there). */
  onMove?(id: PeerId, x: number, y: number, vx: number, vy: number): void
  onLeave?(id: PeerId): void
  /** The join (or rejoin) completed: an acceptor answered, or this peer started the world. */
  onJoined?(): void
}

export interface VonComponents {
  env: Pick<Env, 'clock' | 'timers' | 'log'>
  links: LinkManager
  localId: PeerId
  listener?: VonListener
  /** Join tickets from the bootstrap node (issue 23; see join-tickets.ts). Without them, any joiner hears of the nodes around any place. */
  tickets?: JoinTickets
}

export interface VonStats {
  queriesForwarded: number
  accepted: number
  notificationsSent: number
  dropped: number
  aoiShrinks: number
  /** Malformed or out-of-order messages, dropped. */
  badMessages: number
  /** States (and named nodes) that broke the world's rules (an AOI too large, off the map, too fast): clamped or dropped. */
  unlawful: number
  /**
   * Join queries that came back to a peer already on their path (greedy
   * forwarding met stale positions and went round): dropped, and the joiner
   * tries again. Not malformed, so not `badMessages`.
   */
  joinLoops: number
  /** Joins again by itself after cutting off its last neighbour for misbehaving (see Joining.lookAgain). */
  orphaned: number
  /** Queries for its own position sent while joined, after cutting off an enclosing neighbour (see Joining.lookAgain). */
  looks: number
  /** Join queries for a place their joiner, a neighbour we hold, cannot be (issue 23, finding 4; see Joining.onQuery): dropped. */
  refusedQueries: number
  /** Join queries we would have answered as acceptor, without a ticket that reaches their place while tickets are required: dropped. */
  unticketed: number
}

/**
 * One peer of the VON Voronoi overlay (Hu, Chen & Chen 2006): it knows exactly
 * the peers inside its area of interest plus its enclosing neighbours, which
 * hold the overlay together. Every neighbour watches its neighbours move and
 * tells a mover about peers that just became relevant to it (mutual
 * notification); link loss triggers repair of the enclosing ring.
 *
 * The parts live beside it: joining (von-join.ts), what neighbours tell us
 * (von-neighbours.ts) and the periodic housekeeping (von-housekeeping.ts).
 */
export class VonPeer {
  readonly localId: PeerId
  readonly stats: VonStats = { queriesForwarded: 0, accepted: 0, notificationsSent: 0, dropped: 0, aoiShrinks: 0, badMessages: 0, unlawful: 0, joinLoops: 0, orphaned: 0, looks: 0, refusedQueries: 0, unticketed: 0 }
  x = 0
  y = 0
  /** Current AOI radius: `aoiRadius` unless crowding control shrank it. */
  aoi: number
  seq = 0
  /** Our velocity (units/s): given to `move`, or estimated from the last two. */
  vx = 0
  vy = 0
  joined = false
  readonly table: NeighbourTable
  private readonly env: VonComponents['env']
  private readonly links: LinkManager
  private readonly listener: VonListener | undefined
  private readonly cfg: Required<VonInit>
  private readonly jitter: { jx: number; jy: number }
  private readonly joining: Joining
  private readonly housekeeping: Housekeeping
  private readonly neighbours: NeighbourMessages
  private stopped = false
  /** The digest of our table (see VonMsg.MOVE) at table version `digestVersion`, made when first needed after a change; null in a crowd. */
  private digestBytes: Uint8Array | null = null
  private digestVersion = -1
  /** The table version whose digest our moves carried last. */
  private sentVersion = -1
  /** When our moves last carried the digest. */
  private digestSentAt = -Infinity
  /** Our move seq at the last housekeeping tick (see tickDigest). */
  private seqAtTick = 0
  /** What our last MOVE said (neighbours predict us from it), and when we sent it. */
  private readonly sent = { x: 0, y: 0, vx: 0, vy: 0, at: -Infinity }
  /** When `move` was last called, and the interval before that. */
  private movedAt = -Infinity
  private moveIntervalMs = 0

  constructor(components: VonComponents, init: VonInit = {}) {
    this.env = components.env
    this.links = components.links
    this.localId = components.localId
    this.listener = components.listener
    this.cfg = {
      aoiRadius: init.aoiRadius ?? 200,
      buffer: init.buffer ?? 30,
      tickMs: init.tickMs ?? 200,
      dropAfterMs: init.dropAfterMs ?? 2000,
      maxAoiNeighbours: init.maxAoiNeighbours ?? 40,
      minAoiFraction: init.minAoiFraction ?? 0.1,
      maxNeighbours: init.maxNeighbours ?? 90,
      joinTimeoutMs: init.joinTimeoutMs ?? 5000,
      resyncMs: init.resyncMs ?? 5000,
      moveErrorMax: init.moveErrorMax ?? 1,
      moveHeartbeatMs: init.moveHeartbeatMs ?? 3000,
      width: init.width ?? Infinity,
      height: init.height ?? Infinity,
      speedMax: init.speedMax ?? Infinity,
    }
    this.aoi = this.cfg.aoiRadius
    this.jitter = jitterOf(this.localId)
    this.table = new NeighbourTable(this.localId, this.cfg.maxNeighbours)
    const ctx: VonContext = {
      peer: this,
      env: this.env,
      links: this.links,
      listener: this.listener,
      cfg: this.cfg,
      gone: new Map(),
      dropped: new Map(),
      stopped: () => this.stopped,
      self: () => this.self(),
      info: () => this.info(),
      relevant: (ax, ay, aAoi, bx, by, bAoi, buffers) => this.relevant(ax, ay, aAoi, bx, by, bAoi, buffers),
      reach: (aoi, buffers) => this.reach(aoi, buffers),
      insert: (info, via) => this.insert(info, via),
      remove: (id) => this.remove(id),
      broadcastState: () => this.broadcastState(),
      hello: () => this.helloState(),
      tickDigest: () => this.tickDigest(),
      bad: (from) => this.bad(from),
      rules: { aoiMax: this.cfg.aoiRadius, width: this.cfg.width, height: this.cfg.height, speedMax: this.cfg.speedMax },
      unlawful: (from, count) => this.unlawful(from, count),
      lookAgain: () => this.joining.lookAgain(),
      tickets: components.tickets,
    }
    this.joining = new Joining(ctx)
    this.housekeeping = new Housekeeping(ctx)
    this.neighbours = new NeighbourMessages(ctx, this.housekeeping)
    const l = this.links
    const joining = this.joining
    const neighbours = this.neighbours
    l.register({
      id: PROTOCOL.VON,
      insists: (peer) => this.table.has(peer) || joining.insists(peer),
      onLinkOpen: (peer) => neighbours.onLinkOpen(peer),
      onLinkClosed: (peer, reason) => {
        joining.onLinkClosed(peer)
        neighbours.onLinkClosed(peer, reason)
      },
    })
    // One closure per message type, each checking `stopped` itself: a wrapper
    // around the handler would be one more object to reach per message.
    const on = (type: number, handler: (from: PeerId, payload: unknown) => void): void => l.handle(PROTOCOL.VON, type, handler)
    on(VonMsg.QUERY, (from, p) => this.stopped || joining.onQuery(from, p))
    on(VonMsg.ACCEPT, (from, p) => this.stopped || joining.onAccept(from, p))
    on(VonMsg.HELLO, (from, p) => this.stopped || neighbours.onHello(from, p))
    on(VonMsg.MOVE, (from, p) => this.stopped || neighbours.onMove(from, p))
    on(VonMsg.NODES, (from, p) => this.stopped || neighbours.onNodes(from, p))
    on(VonMsg.BYE, (from, p) => this.stopped || neighbours.onBye(from, p === LEAVING))
    on(VonMsg.SYNC, (from, p) => this.stopped || neighbours.onSync(from, p))
    on(VonMsg.ASK, (from, p) => this.stopped || neighbours.onAsk(from, p))
    on(VonMsg.SKETCH, (from, p) => this.stopped || neighbours.onSketch(from, p))
  }

  get buffer(): number {
    return this.cfg.buffer
  }

  /**
   * Enters the world at (x, y). With gateways (peers already in the world, e.g.
   * the bootstrap node's host cache), a link to one is opened through the
   * bootstrap node and a query walks greedily to the acceptor; an unanswered
   * query is retried with the next gateway (asking a gateway function again once
   * all were tried). Without any, this peer starts the world.
   *
   * A joined peer that cuts off a neighbour for misbehaving looks for the
   * world again through these gateways (see Joining.lookAgain).
   */
  join(x: number, y: number, gateways: readonly PeerId[] | (() => readonly PeerId[]) = []): void {
    if (this.stopped) throw P2PError.INVALID_ARGUMENT('this peer left the world; make a new VonPeer')
    this.x = x
    this.y = y
    this.joined = false
    this.housekeeping.start()
    this.joining.start(gateways)
  }

  /**
   * Enters again after losing every neighbour (the links layer and services stay):
   * the same as `join`, from the current position.
   */
  rejoin(gateways: readonly PeerId[] | (() => readonly PeerId[])): void {
    this.join(this.x, this.y, gateways)
  }

  /**
   * Moves to (x, y) at velocity (vx, vy) units/s (when not given: estimated
   * from the previous call). Neighbours hear of it (HIGH priority) only when
   * their prediction from our last MOVE would err by more than `moveErrorMax`,
   * now or by our next move; or at the heartbeat. Returns whether they were told.
   */
  move(x: number, y: number, vx?: number, vy?: number): boolean {
    const now = this.env.clock.now()
    const dt = now - this.movedAt
    if (vx === undefined || vy === undefined) {
      const known = dt > 0 && dt <= VELOCITY_WINDOW_MS
      vx = known ? ((x - this.x) * 1000) / dt : 0
      vy = known ? ((y - this.y) * 1000) / dt : 0
    }
    if (dt > 0) this.moveIntervalMs = Math.min(dt, VELOCITY_WINDOW_MS)
    this.movedAt = now
    this.x = x
    this.y = y
    this.vx = vx
    this.vy = vy
    if (!this.predictionErrs(now)) return false
    this.broadcastState(now)
    return true
  }

  /**
   * Whether neighbours' prediction of us errs (where we were at our last
   * `move`, or now if we stand still) or will by our next move, or the
   * heartbeat is due.
   */
  private predictionErrs(now: number): boolean {
    const e = this.cfg.moveErrorMax
    const s = this.sent
    if (e <= 0 || now - s.at >= this.cfg.moveHeartbeatMs) return true
    const dt = ((this.vx === 0 && this.vy === 0 ? now : this.movedAt) - s.at) / 1000
    const ex = s.x + s.vx * dt - this.x
    const ey = s.y + s.vy * dt - this.y
    if (ex * ex + ey * ey > e * e) return true
    const ahead = this.moveIntervalMs / 1000
    return ((this.vx - s.vx) ** 2 + (this.vy - s.vy) ** 2) * ahead * ahead > e * e
  }

  /** Leaves the world: BYE to every neighbour; links close when GC finds them unwanted. */
  leave(): void {
    for (const n of this.table.values()) this.links.send(n.id, PROTOCOL.VON, VonMsg.BYE, LEAVING, Priority.MEDIUM)
    for (const n of [...this.table.values()]) this.remove(n.id)
    this.stopped = true
    this.joined = false
    this.housekeeping.stop()
  }

  /** Whether `id` is an enclosing neighbour in the latest local diagram. */
  isEnclosing(id: PeerId): boolean {
    return this.housekeeping.isEnclosing(id)
  }

  /** Whether `id`'s cell reaches beyond this peer's AOI (a boundary neighbour). */
  isBoundary(id: PeerId): boolean {
    return this.housekeeping.isBoundary(id)
  }

  // ---- the neighbour table ----

  private insert(info: NodeInfo, via: readonly PeerId[] | undefined): void {
    if (info.id === this.localId || this.table.has(info.id)) return
    if (this.table.size >= this.cfg.maxNeighbours && !this.evictFor(info, via !== undefined)) return
    const n = this.table.add(info, this.env.clock.now(), via?.[via.length - 1])
    if (n === undefined) return
    const result = this.links.connect(info.id, via === undefined ? {} : { via })
    this.env.log.debug('von neighbour', { peer: info.id, via, result })
    if (result === 'limit') {
      this.table.delete(info.id)
      return
    }
    if (result === 'open') this.links.send(info.id, PROTOCOL.VON, VonMsg.HELLO, this.helloState(), Priority.MEDIUM)
    // The game hears of it when it speaks for itself (see Neighbour.confirmed and NeighbourMessages).
  }

  /**
   * The table is full (a crowd): make room for `info` by dropping the farthest
   * neighbour that does not enclose us, if `info` is nearer. What is near is
   * what the AOI needs. A `hint` (a node only others named) never evicts a
   * neighbour that spoke for itself (issue 23: invented ids near us would
   * otherwise take the places of real neighbours); a node that speaks for
   * itself evicts the farthest hint first, however near and even enclosing.
   */
  private evictFor(info: NodeInfo, hint: boolean): boolean {
    let worst: Neighbour | undefined
    let worstD = (info.x - this.x) ** 2 + (info.y - this.y) ** 2
    if (!hint) {
      for (const n of this.table.values()) {
        const d = (n.x - this.x) ** 2 + (n.y - this.y) ** 2
        if (!n.confirmed && (worst === undefined || d > worstD)) {
          worst = n
          worstD = d
        }
      }
    }
    for (const n of worst === undefined ? this.table.values() : []) {
      const d = (n.x - this.x) ** 2 + (n.y - this.y) ** 2
      // A hint may take the place of a neighbour that spoke for itself only when that one is out of our AOI
      // (and not enclosing): invented ids near us cannot push out the neighbours we see.
      if (d > worstD && (!hint || !n.confirmed || d > this.aoi * this.aoi) && !this.housekeeping.isEnclosing(n.id)) {
        worst = n
        worstD = d
      }
    }
    if (worst === undefined) return false
    this.stats.dropped++
    this.links.send(worst.id, PROTOCOL.VON, VonMsg.BYE, null, Priority.MEDIUM)
    this.remove(worst.id)
    return true
  }

  private remove(id: PeerId): void {
    const n = this.table.get(id)
    if (n === undefined || !this.table.delete(id)) return
    for (const n of this.table.values()) {
      n.told.delete(id)
      n.toldEnclosing.delete(id)
    }
    this.housekeeping.forget(id)
    this.joining.forget(n)
    if (n.confirmed) this.listener?.onLeave?.(id)
  }

  /**
   * Sends our state, as of now, to every neighbour: they predict us from it
   * until the next (so one that missed a turn would predict us wrong until then).
   *
   * The digest of what we hold goes with the first move after our table
   * changed and with every DIGEST_EVERY-th (a digest lost to a move that
   * replaced it in a queue is sent again):
   * our neighbours then tell us only of nodes we miss. Without it, four in five
   * nodes they named we held already, most of them for over a second.
   */
  private broadcastState(now = this.env.clock.now()): void {
    this.seq++
    const state = this.stateNow(now)
    const s = this.sent
    s.x = state.x
    s.y = state.y
    s.vx = state.vx
    s.vy = state.vy
    s.at = now
    const version = this.table.version
    const known = this.sentVersion !== version || this.seq % DIGEST_EVERY === 0 ? this.digest() : undefined
    if (known !== undefined) {
      this.sentVersion = version
      this.digestSentAt = s.at
    }
    // A neighbour whose link is still opening hears our state in the HELLO at its opening.
    const open: PeerId[] = []
    for (const id of this.table.keys()) if (this.links.isOpen(id)) open.push(id)
    this.links.broadcast(open, PROTOCOL.VON, VonMsg.MOVE, encodeState(state, known), Priority.HIGH, MOVE_KEY)
  }

  private helloState(): unknown[] {
    return encodeState(this.stateNow(), this.digest())
  }

  /** Our state as of `now`: where our velocity took us since our last `move` (see VonMsg.MOVE). */
  private stateNow(now = this.env.clock.now()): State {
    const dt = Math.max(0, now - this.movedAt) / 1000
    const { vx, vy } = this
    const moving = (vx !== 0 || vy !== 0) && dt > 0
    // Not past the map's edge, where a walker stops.
    const x = moving ? Math.min(Math.max(this.x + vx * dt, 0), this.cfg.width) : this.x
    const y = moving ? Math.min(Math.max(this.y + vy * dt, 0), this.cfg.height) : this.y
    return { x, y, aoi: this.aoi, seq: this.seq, vx, vy }
  }

  /**
   * Once per housekeeping tick: a peer that did not move since the last one
   * sends a changed digest anyway (to all), or its neighbours would go on
   * trusting the old one.
   */
  private tickDigest(): void {
    const now = this.env.clock.now()
    // A caller that stopped calling `move` stands still: neighbours must stop predicting motion.
    if ((this.vx !== 0 || this.vy !== 0) && now - this.movedAt > Math.max(STILL_AFTER_MS, 2 * this.moveIntervalMs)) {
      this.vx = 0
      this.vy = 0
    }
    if (this.sentVersion !== this.table.version && this.seq === this.seqAtTick && now - this.digestSentAt >= DIGEST_MIN_MS) this.broadcastState()
    else if (this.joined && this.predictionErrs(now)) this.broadcastState()
    this.seqAtTick = this.seq
  }

  /**
   * The digest of our table, or null in a crowd: there the tables change at
   * almost every move, and 80 prefixes to 80 neighbours with each of them
   * doubled what a peer sent (dense, 200 peers: 72 KB/s against 32).
   */
  private digest(): Uint8Array | null {
    if (this.digestVersion !== this.table.version) {
      this.digestBytes = this.table.size > CROWDED_TABLE ? null : knownBytes(Array.from(this.table.values(), (n) => n.prefix >>> 16))
      this.digestVersion = this.table.version
    }
    return this.digestBytes
  }

  private self(): Site {
    return { x: this.x, y: this.y, jx: this.jitter.jx, jy: this.jitter.jy }
  }

  private info(): NodeInfo {
    return { id: this.localId, ...this.stateNow() }
  }

  /**
   * AOI relevance: either lies within the other's AOI plus `buffers` margins.
   * The margin shrinks with an AOI that crowding control shrank: in a crowd
   * nobody moves far between notices, and a full margin would hold everyone.
   */
  private relevant(ax: number, ay: number, aAoi: number, bx: number, by: number, bAoi: number, buffers: number): boolean {
    const r = this.reach(Math.max(aAoi, bAoi), buffers)
    return (ax - bx) ** 2 + (ay - by) ** 2 <= r * r
  }

  /** AOI radius `aoi` plus `buffers` margins, scaled as in `relevant`. */
  private reach(aoi: number, buffers: number): number {
    return aoi + buffers * this.cfg.buffer * Math.min(1, aoi / this.cfg.aoiRadius)
  }

  /** `from` broke the world's rules `count` times in one message: counted, and against its link. */
  private unlawful(from: PeerId, count: number): void {
    this.stats.unlawful += count
    this.links.misbehaved(from, count)
  }

  /** A malformed or out-of-place message from `from`: counted, and against its link (which closes past its limit). */
  private bad(from: PeerId): void {
    this.stats.badMessages++
    this.links.misbehaved(from)
  }
}

/** BYE payload of a peer leaving the world (a plain BYE only drops us as its neighbour). */
const LEAVING = 1

/**
 * A changed digest goes out on its own (a MOVE to every neighbour) at most
 * this often; moves sent anyway carry it at once. Sent at every change (about
 * twice a second at VAST's density), it was four fifths of all MOVEs; every
 * 2 s, neighbours tell us of a few more nodes we hold already (VAST, 100 peers:
 * MOVE 559 -> 302 B/s, NODES 625 -> 676 B/s).
 */
const DIGEST_MIN_MS = 2000

/** Every this-many-th move carries our digest even when our table did not change (see broadcastState). */
const DIGEST_EVERY = 4

/** Velocity is estimated from two `move` calls at most this far apart (else: standing still). */
const VELOCITY_WINDOW_MS = 1000
/** A peer whose `move` was not called this long (or two of its intervals) stands still. */
const STILL_AFTER_MS = 300

/** A newer move replaces one still waiting in a link's queue. */
const MOVE_KEY = { key: 'move' }
