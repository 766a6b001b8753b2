import type { Env } from '../core/env.js'
import { P2PError } from '../core/errors.js'
import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { LocalDiagram, jitterOf, type Site } from './geometry.js'
import {
  MAX_NODES,
  MAX_PATH,
  VonMsg,
  decodeAccept,
  decodeNodes,
  decodePrefixes,
  decodeQuery,
  decodeState,
  encodeAccept,
  encodeNodes,
  encodePrefixes,
  encodeQuery,
  idPrefix,
  encodeState,
  type Accept,
  type NodeInfo,
  type Query,
} from './messages.js'
import { NeighbourTable, type Neighbour } from './neighbour-table.js'

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
}

/** What the game hears from the overlay. */
export interface VonListener {
  onEnter?(id: PeerId, x: number, y: number): void
  onMove?(id: PeerId, x: number, y: number): void
  onLeave?(id: PeerId): void
  /** The join (or rejoin) completed: an acceptor answered, or this peer started the world. */
  onJoined?(): void
}

export interface VonComponents {
  env: Pick<Env, 'clock' | 'timers' | 'log'>
  links: LinkManager
  localId: PeerId
  listener?: VonListener
}

export interface VonStats {
  queriesForwarded: number
  accepted: number
  notificationsSent: number
  dropped: number
  aoiShrinks: number
  badMessages: number
}

/**
 * One peer of the VON Voronoi overlay (Hu, Chen & Chen 2006): it knows exactly
 * the peers inside its area of interest plus its enclosing neighbours, which
 * hold the overlay together. Every neighbour watches its neighbours move and
 * tells a mover about peers that just became relevant to it (mutual
 * notification); link loss triggers repair of the enclosing ring.
 */
export class VonPeer {
  readonly localId: PeerId
  readonly stats: VonStats = { queriesForwarded: 0, accepted: 0, notificationsSent: 0, dropped: 0, aoiShrinks: 0, badMessages: 0 }
  x = 0
  y = 0
  /** Current AOI radius: `aoiRadius` unless crowding control shrank it. */
  aoi: number
  seq = 0
  joined = false
  readonly table: NeighbourTable
  private readonly env: VonComponents['env']
  private readonly links: LinkManager
  private readonly listener: VonListener | undefined
  private readonly cfg: Required<VonInit>
  private diagram: LocalDiagram | undefined
  private diagramSites: (Site & { id: PeerId })[] = []
  private readonly jitter: { jx: number; jy: number }
  private selfEnclosing = new Set<PeerId>()
  private repair = false
  private nextQid = 1
  private query: { qid: number; gateway: PeerId } | undefined
  private joinRound = 0
  /** Sends the next query at once (its gateway's link failed). */
  private retryJoin: (() => void) | undefined
  private readonly joiners = new Map<PeerId, number>()
  /** Id prefixes we asked a neighbour about (SYNC), and when. */
  private readonly asked = new Map<number, number>()
  /** Round-robin position of the slow resync (see VonInit.resyncMs). */
  private resyncCursor = 0
  /**
   * Neighbours whose link failed, until when we ignore others' notices of them.
   * A crashed peer stays in the tables of those that have not noticed yet; their
   * notices would bring it back as a zombie that distorts our cell.
   */
  private readonly gone = new Map<PeerId, number>()
  private timer: unknown
  private stopped = false

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
    }
    this.aoi = this.cfg.aoiRadius
    this.jitter = jitterOf(this.localId)
    this.table = new NeighbourTable(this.localId, this.cfg.maxNeighbours)
    const l = this.links
    l.register({
      id: PROTOCOL.VON,
      insists: (peer) => this.table.has(peer) || this.query?.gateway === peer || this.joinerLinkWanted(peer),
      onLinkOpen: (peer) => this.onLinkOpen(peer),
      onLinkClosed: (peer, reason) => this.onLinkClosed(peer, reason),
    })
    const on = (type: number, fn: (from: PeerId, payload: unknown) => void): void =>
      l.handle(PROTOCOL.VON, type, (from, p) => {
        if (!this.stopped) fn(from, p)
      })
    on(VonMsg.QUERY, (from, p) => this.onQuery(from, p))
    on(VonMsg.ACCEPT, (from, p) => this.onAccept(from, p))
    on(VonMsg.HELLO, (from, p) => this.onHello(from, p))
    on(VonMsg.MOVE, (from, p) => this.onMove(from, p))
    on(VonMsg.NODES, (from, p) => this.onNodes(from, p))
    on(VonMsg.BYE, (from, p) => this.onBye(from, p === LEAVING))
    on(VonMsg.SYNC, (from, p) => this.onSync(from, p))
    on(VonMsg.ASK, (from, p) => this.onAsk(from, p))
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
   */
  join(x: number, y: number, gateways: readonly PeerId[] | (() => readonly PeerId[]) = []): void {
    if (this.stopped) throw P2PError.INVALID_ARGUMENT('this peer left the world; make a new VonPeer')
    this.x = x
    this.y = y
    this.joined = false
    this.query = undefined
    this.startTicking()
    const fetch = (): PeerId[] => (typeof gateways === 'function' ? gateways() : gateways).filter((g) => g !== this.localId)
    let usable = fetch()
    if (usable.length === 0) return this.becomeJoined()
    let attempt = 0
    const round = ++this.joinRound
    const tryNext = (): void => {
      if (this.joined || this.stopped || round !== this.joinRound) return
      if (attempt > 0 && attempt % usable.length === 0) {
        const fresh = fetch()
        if (fresh.length > 0) usable = fresh
      }
      this.sendQuery(usable[attempt++ % usable.length]!, [])
      this.retryJoin = tryNext
      this.env.timers.setTimeout(tryNext, this.cfg.joinTimeoutMs)
    }
    tryNext()
  }

  /**
   * Enters again after losing every neighbour (the links layer and services stay):
   * the same as `join`, from the current position.
   */
  rejoin(gateways: readonly PeerId[] | (() => readonly PeerId[])): void {
    this.join(this.x, this.y, gateways)
  }

  private becomeJoined(): void {
    this.joined = true
    this.query = undefined
    this.retryJoin = undefined
    this.listener?.onJoined?.()
  }

  /** Moves to (x, y) and tells every neighbour at once (HIGH priority). */
  move(x: number, y: number): void {
    if (x === this.x && y === this.y) return
    this.x = x
    this.y = y
    this.broadcastState()
  }

  /** Leaves the world: BYE to every neighbour; links close when GC finds them unwanted. */
  leave(): void {
    for (const n of this.table.values()) this.links.send(n.id, PROTOCOL.VON, VonMsg.BYE, LEAVING, Priority.MEDIUM)
    for (const n of [...this.table.values()]) this.remove(n.id)
    this.stopped = true
    this.joined = false
    if (this.timer !== undefined) this.env.timers.clearTimeout(this.timer)
  }

  /** Whether `id` is an enclosing neighbour in the latest local diagram. */
  isEnclosing(id: PeerId): boolean {
    return this.selfEnclosing.has(id)
  }

  /** Whether `id`'s cell reaches beyond this peer's AOI (a boundary neighbour). */
  isBoundary(id: PeerId): boolean {
    const i = this.diagramSites.findIndex((n) => n.id === id)
    return i > 0 && this.diagram !== undefined && this.diagram.reachesBeyond(i, this.x, this.y, this.aoi)
  }

  // ---- join ----

  private sendQuery(gateway: PeerId, path: readonly PeerId[]): void {
    const qid = this.nextQid++
    this.query = { qid, gateway }
    if (path.length === 0) this.links.connect(gateway)
    else this.links.connect(gateway, { via: path })
    const msg: Query = { qid, joiner: this.localId, x: this.x, y: this.y, aoi: this.aoi, path: [] }
    this.links.send(gateway, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(msg), Priority.MEDIUM)
  }

  /** Joiners whose query we took directly: keep their link until the answer is back. */
  private joinerLinkWanted(peer: PeerId): boolean {
    const until = this.joiners.get(peer)
    if (until === undefined) return false
    if (until > this.env.clock.now()) return true
    this.joiners.delete(peer)
    return false
  }

  private onQuery(from: PeerId, payload: unknown): void {
    const m = decodeQuery(payload)
    if (m === null || m.joiner === this.localId || m.path.includes(this.localId)) return this.bad()
    if (!this.joined) {
      // Two lone peers joining through each other: the smaller id founds the world.
      if (this.query?.gateway !== from || from !== m.joiner || this.localId > from) return
      this.becomeJoined()
    }
    if (from === m.joiner && this.joiners.size < MAX_PENDING_JOINERS) this.joiners.set(from, this.env.clock.now() + this.cfg.joinTimeoutMs)
    const next = this.closestTo(m.x, m.y)
    if (next !== undefined && m.path.length < MAX_PATH - 1) {
      this.stats.queriesForwarded++
      const fwd: Query = { ...m, path: [...m.path, this.localId] }
      this.links.send(next, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(fwd), Priority.MEDIUM)
      return
    }
    // This peer's cell holds the position (or the path is long: answer as a waypoint).
    const final = next === undefined
    if (final) this.stats.accepted++
    const nodes = final ? this.relevantTo(m.joiner, m.x, m.y, m.aoi) : []
    const reply: Accept = { qid: m.qid, joiner: m.joiner, path: m.path, hop: m.path.length - 1, final, acceptor: this.info(), nodes }
    this.links.send(m.path.length === 0 ? from : m.path[m.path.length - 1]!, PROTOCOL.VON, VonMsg.ACCEPT, encodeAccept(reply), Priority.MEDIUM)
  }

  private onAccept(from: PeerId, payload: unknown): void {
    const m = decodeAccept(payload)
    if (m === null) return this.bad()
    if (m.hop >= 0) {
      // Relaying back along the path: only from the next hop (or the acceptor).
      if (m.path[m.hop] !== this.localId) return this.bad()
      const expected = m.hop === m.path.length - 1 ? m.acceptor.id : m.path[m.hop + 1]
      if (from !== expected) return this.bad()
      const to = m.hop === 0 ? m.joiner : m.path[m.hop - 1]!
      this.links.send(to, PROTOCOL.VON, VonMsg.ACCEPT, encodeAccept({ ...m, hop: m.hop - 1 }), Priority.MEDIUM)
      return
    }
    if (m.joiner !== this.localId || this.query === undefined || m.qid !== this.query.qid) return
    // The query's path leads from our gateway to the acceptor: introductions follow it.
    const route = m.path
    if (!m.final) {
      this.sendQuery(m.acceptor.id, route)
      return
    }
    this.becomeJoined()
    this.insert(m.acceptor, route.length > 0 ? route : undefined)
    for (const n of m.nodes) if (n.id !== this.localId) this.insert(n, [m.acceptor.id])
  }

  /** The neighbour with an open link strictly closer to (x, y) than this peer; ties break on the smaller id. */
  private closestTo(x: number, y: number): PeerId | undefined {
    let best: PeerId | undefined
    let bestD = (this.x - x) ** 2 + (this.y - y) ** 2
    let bestId: PeerId = this.localId
    for (const n of this.table.values()) {
      if (!this.links.isOpen(n.id)) continue
      const d = (n.x - x) ** 2 + (n.y - y) ** 2
      if (d < bestD || (d === bestD && n.id < bestId)) {
        best = n.id
        bestD = d
        bestId = n.id
      }
    }
    return best
  }

  // ---- neighbours ----

  private onLinkOpen(peer: PeerId): void {
    if (this.table.has(peer)) this.links.send(peer, PROTOCOL.VON, VonMsg.HELLO, encodeState(this), Priority.MEDIUM)
  }

  private onLinkClosed(peer: PeerId, reason: string): void {
    if (this.query?.gateway === peer) {
      // The gateway is gone or unreachable: try the next one now, not after the timeout.
      this.query = undefined
      const retry = this.retryJoin
      this.env.timers.setTimeout(() => retry?.(), 0)
    }
    if (!this.table.has(peer)) return
    this.remove(peer)
    if (FAILED.has(reason)) {
      if (this.gone.size >= MAX_GONE) this.gone.delete(this.gone.keys().next().value!)
      this.gone.set(peer, this.env.clock.now() + GONE_MS)
    }
    // A neighbour vanished: re-announce the enclosing view so the hole is filled.
    this.repair = true
  }

  private onHello(from: PeerId, payload: unknown): void {
    const s = decodeState(payload)
    if (s === null) return this.bad()
    this.gone.delete(from)
    const known = this.table.get(from)
    if (known === undefined) {
      this.insert({ id: from, ...s }, undefined)
      return
    }
    this.table.update(known, s)
    known.resync = true
  }

  private onMove(from: PeerId, payload: unknown): void {
    const s = decodeState(payload)
    if (s === null) return this.bad()
    const n = this.table.get(from)
    if (n === undefined) {
      if (this.relevant(this.x, this.y, this.aoi, s.x, s.y, s.aoi, 1)) this.insert({ id: from, ...s }, undefined)
      return
    }
    if (this.table.update(n, s)) this.listener?.onMove?.(from, s.x, s.y)
  }

  private onNodes(from: PeerId, payload: unknown): void {
    const nodes = decodeNodes(payload)
    if (nodes === null) return this.bad()
    if (!this.table.has(from) || !this.joined) return
    const fresh = nodes.filter((n) => n.id !== this.localId && !this.table.has(n.id))
    if (fresh.length === 0) return
    // Keep those in range, and those that would enclose us: a point becomes our
    // Delaunay neighbour exactly when it is nearer than we are to some vertex of
    // our cell (it would take a piece of it). The cell is the last tick's.
    const cell = this.diagram?.cell(0) ?? []
    const now = this.env.clock.now()
    for (const n of fresh) {
      const until = this.gone.get(n.id)
      if (until !== undefined && until > now) continue
      const x = n.x
      const y = n.y
      const takes = (v: readonly [number, number]): boolean => (v[0] - x) ** 2 + (v[1] - y) ** 2 < (v[0] - this.x) ** 2 + (v[1] - this.y) ** 2
      if (this.relevant(this.x, this.y, this.aoi, x, y, n.aoi, 1) || cell.length === 0 || cell.some(takes)) this.insert(n, [from])
    }
  }

  private onBye(from: PeerId, leaving: boolean): void {
    const n = this.table.get(from)
    if (n === undefined) return
    if (leaving) {
      this.remove(from)
      this.repair = true
      return
    }
    if (this.selfEnclosing.has(from) || this.relevant(this.x, this.y, this.aoi, n.x, n.y, n.aoi, 1)) {
      // We still need it: say so, and it inserts us again.
      this.links.send(from, PROTOCOL.VON, VonMsg.HELLO, encodeState(this), Priority.MEDIUM)
      return
    }
    this.remove(from)
  }

  /** A neighbour named nodes relevant to us: ask for those we do not know (once a while each). */
  private onSync(from: PeerId, payload: unknown): void {
    const prefixes = decodePrefixes(payload)
    if (prefixes === null) return this.bad()
    if (!this.table.has(from) || !this.joined) return
    const known = new Set<number>([idPrefix(this.localId)])
    for (const n of this.table.values()) known.add(n.prefix)
    const now = this.env.clock.now()
    for (const [id, until] of this.gone) if (until > now) known.add(idPrefix(id))
    if (this.asked.size > MAX_ASKED) this.asked.clear()
    const missing: number[] = []
    for (const p of prefixes) {
      if (known.has(p)) continue
      // Several neighbours name the same node at once: ask one, the others only if that fails.
      const at = this.asked.get(p)
      if (at !== undefined && now - at < ASK_AGAIN_MS) continue
      this.asked.set(p, now)
      missing.push(p)
    }
    if (missing.length > 0) this.links.send(from, PROTOCOL.VON, VonMsg.ASK, encodePrefixes(missing.slice(0, MAX_NODES)), Priority.MEDIUM)
  }

  /** A neighbour misses nodes our SYNC named: tell it of those we still hold and hear from. */
  private onAsk(from: PeerId, payload: unknown): void {
    const prefixes = decodePrefixes(payload)
    if (prefixes === null) return this.bad()
    const c = this.table.get(from)
    if (c === undefined || !this.joined) return
    const wanted = new Set(prefixes)
    const now = this.env.clock.now()
    const tell: NodeInfo[] = []
    for (const d of this.table.values()) {
      if (d === c || !wanted.has(d.prefix) || !this.links.isOpen(d.id)) continue
      c.told.set(d.id, now)
      tell.push(d.info())
    }
    if (tell.length > 0) this.links.send(from, PROTOCOL.VON, VonMsg.NODES, encodeNodes(tell), Priority.MEDIUM)
  }

  private insert(info: NodeInfo, via: readonly PeerId[] | undefined): void {
    if (info.id === this.localId || this.table.has(info.id)) return
    if (this.table.size >= this.cfg.maxNeighbours && !this.evictFor(info)) return
    const n = this.table.add(info)
    if (n === undefined) return
    const result = this.links.connect(info.id, via === undefined ? {} : { via })
    this.env.log.debug('von neighbour', { peer: info.id, via, result })
    if (result === 'limit') {
      this.table.delete(info.id)
      return
    }
    if (result === 'open') this.links.send(info.id, PROTOCOL.VON, VonMsg.HELLO, encodeState(this), Priority.MEDIUM)
    this.listener?.onEnter?.(info.id, info.x, info.y)
  }

  /**
   * The table is full (a crowd): make room for `info` by dropping the farthest
   * neighbour that does not enclose us, if `info` is nearer. What is near is
   * what the AOI needs.
   */
  private evictFor(info: NodeInfo): boolean {
    let worst: Neighbour | undefined
    let worstD = (info.x - this.x) ** 2 + (info.y - this.y) ** 2
    for (const n of this.table.values()) {
      const d = (n.x - this.x) ** 2 + (n.y - this.y) ** 2
      if (d > worstD && !this.selfEnclosing.has(n.id)) {
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
    if (!this.table.delete(id)) return
    for (const n of this.table.values()) n.told.delete(id)
    this.selfEnclosing.delete(id)
    this.listener?.onLeave?.(id)
  }

  /**
   * Sends our state to our neighbours. A neighbour we are about to drop (neither
   * enclosing nor in range at the last tick: about 40 % of a table at VAST's
   * density, which holds neighbours 2 s after they leave) needs only enough to
   * keep its drop decision right and to notice when we come back: it hears every
   * FAR_MOVE_EVERY-th move. A change of AOI goes to all.
   */
  private broadcastState(all = false): void {
    this.seq++
    let targets: Iterable<PeerId> = this.table.keys()
    if (!all && this.seq % FAR_MOVE_EVERY !== 0) {
      const near: PeerId[] = []
      for (const n of this.table.values()) if (n.farSince < 0) near.push(n.id)
      targets = near
    }
    this.links.broadcast(targets, PROTOCOL.VON, VonMsg.MOVE, encodeState(this), Priority.HIGH, MOVE_KEY)
  }

  private self(): Site {
    return { x: this.x, y: this.y, jx: this.jitter.jx, jy: this.jitter.jy }
  }

  private info(): NodeInfo {
    return { id: this.localId, x: this.x, y: this.y, aoi: this.aoi, seq: this.seq }
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

  /** The nodes a joiner at (x, y) needs: those in range, and its enclosing neighbours with it inserted. */
  private relevantTo(joiner: PeerId, x: number, y: number, aoi: number): NodeInfo[] {
    const known = [...this.table.values()].filter((n) => n.id !== joiner)
    const sites: Site[] = [{ x, y, ...jitterOf(joiner) }, this.self(), ...known]
    const enclosing = new Set(new LocalDiagram(sites).enclosing(0))
    const out: NodeInfo[] = []
    known.forEach((n, i) => {
      if (enclosing.has(i + 2) || this.relevant(x, y, aoi, n.x, n.y, n.aoi, 1)) out.push(n.info())
    })
    return out.slice(0, MAX_NODES)
  }

  // ---- housekeeping ----

  private startTicking(): void {
    if (this.timer !== undefined || this.stopped) return
    const tick = (): void => {
      this.timer = undefined
      if (this.stopped) return
      this.tick()
      this.timer = this.env.timers.setTimeout(tick, this.cfg.tickMs)
    }
    this.timer = this.env.timers.setTimeout(tick, this.cfg.tickMs)
  }

  /**
   * Mutual notification, drops and crowding control, once per tick over one
   * fresh diagram: for each neighbour that moved or arrived since the last tick,
   * tell it about our other neighbours that are relevant to it (in range, or
   * enclosing it in our diagram) and that we have not told it of yet.
   */
  private tick(): void {
    if (!this.joined) return
    const now = this.env.clock.now()
    const sites = [...this.table.values()]
    this.diagramSites = [{ id: this.localId, ...this.self() }, ...sites]
    const diagram = new LocalDiagram(this.diagramSites)
    this.diagram = diagram
    this.selfEnclosing = new Set(diagram.enclosing(0).map((i) => this.diagramSites[i]!.id))
    const mine = this.selfEnclosing
    const enclosing: PeerId[][] = sites.map((_, i) => diagram.enclosing(i + 1).map((j) => this.diagramSites[j]!.id))
    const repair = this.repair
    this.repair = false
    // Only peers we hear from are news for others: one still connecting may be gone.
    const linked = sites.map((n) => this.links.linkState(n.id) === 'open')
    const news = sites.some((n, i) => linked[i] && !n.linkedBefore)
    const crowded = sites.length > CROWDED_TABLE
    if (sites.length > 0 && this.cfg.resyncMs > 0) {
      const count = Math.ceil((sites.length * this.cfg.tickMs) / this.cfg.resyncMs)
      for (let i = 0; i < count; i++) sites[(this.resyncCursor + i) % sites.length]!.resync = true
      this.resyncCursor = (this.resyncCursor + count) % sites.length
    }
    const dropAfterMs = this.cfg.dropAfterMs
    for (let ci = 0; ci < sites.length; ci++) {
      const c = sites[ci]!
      const repairing = repair && mine.has(c.id)
      // In a crowd, what c may miss but needs no hurry travels as 4-byte id
      // prefixes (SYNC), and c asks for those it does not know: the periodic
      // resync (a notice that did not lead to a link is otherwise never repeated
      // while the pair stays relevant), and what a new neighbour c, one that said
      // HELLO again, or a neighbour whose link just opened hears. Each reaches c
      // from dozens of common neighbours at once (in full, that took 70 KB/s a
      // peer at 20 peers an AOI). In sparse tables they go in full: a round trip
      // less for a newcomer, and after a mass failure the periodic resync in full
      // recovers sooner (by prefix: 5.2 s instead of 4.2 s at 1,000 peers).
      const naming = (c.resync || !c.seen) && crowded
      if (!repairing && !naming && !c.resync && !c.changed && !news) continue
      const ens = enclosing[ci]!
      let tell: NodeInfo[] | undefined
      let named: number[] | undefined
      for (let di = 0; di < sites.length; di++) {
        const d = sites[di]!
        if (d === c || !linked[di]) continue
        const r = this.reach(Math.max(c.aoi, d.aoi), 1)
        if (!repairing && (c.x - d.x) ** 2 + (c.y - d.y) ** 2 > r * r && !ens.includes(d.id)) continue
        if (repairing || (c.resync && !naming)) {
          // After a loss, our enclosing neighbours hear of everyone we know: their
          // own cells decide who now encloses them across the hole (onNodes).
          c.told.set(d.id, now)
          ;(tell ??= []).push(d.info())
          continue
        }
        if (naming || (!d.linkedBefore && crowded)) {
          ;(named ??= []).push(d.prefix)
          continue
        }
        // Relevant now and not at the last tick: c moved towards d, or d towards c.
        if (d.linkedBefore && c.seen && ((c.ox - d.ox) ** 2 + (c.oy - d.oy) ** 2 <= r * r || c.enclosing.includes(d.id))) continue
        // Told recently: it cannot have dropped d since (drops wait dropAfterMs).
        const told = c.told.get(d.id)
        if (told !== undefined && now - told < dropAfterMs) continue
        c.told.set(d.id, now)
        ;(tell ??= []).push(d.info())
      }
      if (tell !== undefined) {
        this.stats.notificationsSent++
        this.links.send(c.id, PROTOCOL.VON, VonMsg.NODES, encodeNodes(tell), Priority.MEDIUM)
      }
      if (named !== undefined) this.links.send(c.id, PROTOCOL.VON, VonMsg.SYNC, encodePrefixes(named), Priority.MEDIUM)
    }
    for (let ci = 0; ci < sites.length; ci++) this.table.settle(sites[ci]!, enclosing[ci]!, linked[ci]!)
    this.dropFar(now)
    this.controlCrowding()
  }

  private dropFar(now: number): void {
    for (const [id, until] of this.gone) if (until <= now) this.gone.delete(id)
    for (const n of [...this.table.values()]) {
      if (this.selfEnclosing.has(n.id) || this.relevant(this.x, this.y, this.aoi, n.x, n.y, n.aoi, 1.25)) {
        n.farSince = -1
      } else if (n.farSince < 0) {
        n.farSince = now
      } else if (now - n.farSince >= this.cfg.dropAfterMs) {
        this.stats.dropped++
        this.links.send(n.id, PROTOCOL.VON, VonMsg.BYE, null, Priority.MEDIUM)
        this.remove(n.id)
      }
    }
  }

  /** Shrinks the AOI while it holds too many neighbours; grows it back as the crowd disperses. */
  private controlCrowding(): void {
    const cap = this.cfg.maxAoiNeighbours
    const inside = (r: number): number => {
      let count = 0
      for (const n of this.table.values()) if ((n.x - this.x) ** 2 + (n.y - this.y) ** 2 <= r * r) count++
      return count
    }
    const min = this.cfg.aoiRadius * this.cfg.minAoiFraction
    let aoi = this.aoi
    if (inside(aoi) > cap && aoi > min) {
      aoi = Math.max(min, aoi * 0.9)
      this.stats.aoiShrinks++
    } else if (aoi < this.cfg.aoiRadius) {
      const grown = Math.min(this.cfg.aoiRadius, aoi * 1.05)
      if (inside(this.reach(grown, 1)) <= cap * 0.8) aoi = grown
    }
    if (aoi !== this.aoi) {
      this.aoi = aoi
      this.broadcastState(true)
    }
  }

  private bad(): void {
    this.stats.badMessages++
  }
}

/** Joins a peer serves as gateway at once (each holds a link until answered). */
const MAX_PENDING_JOINERS = 32

/**
 * How long the notices of a neighbour whose link failed are ignored: its other
 * neighbours detect a crash within about the link's dead time of us.
 */
const GONE_MS = 5000
/** Link close reasons that say the peer may be gone (not that it closed the link). */
const FAILED = new Set(['timeout', 'connect-timeout', 'unknown-peer', 'no-signaling-route'])
const MAX_GONE = 256

/** BYE payload of a peer leaving the world (a plain BYE only drops us as its neighbour). */
const LEAVING = 1

/** A table larger than this is a crowd: news to neighbours goes as SYNC (see tick). */
const CROWDED_TABLE = 24

/** A node named by SYNC is asked for again after this long if it still is not known. */
const ASK_AGAIN_MS = 250
const MAX_ASKED = 1024

/** A neighbour about to be dropped hears every this-many-th move (see broadcastState). */
const FAR_MOVE_EVERY = 4

/** A newer move replaces one still waiting in a link's queue. */
const MOVE_KEY = { key: 'move' }
