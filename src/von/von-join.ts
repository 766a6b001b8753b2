import type { PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { LocalDiagram, jitterOf, type Site } from './geometry.js'
import { MAX_NODES, MAX_PATH, VonMsg, decodeAccept, decodeQuery, encodeAccept, encodeQuery, type Accept, type NodeInfo, type Query } from './messages.js'
import type { VonContext } from './von-context.js'
import type { Neighbour } from './neighbour-table.js'
import type { JoinTicket } from './join-tickets.js'
import { reachSince, type Previous } from './world-rules.js'

export type JoinContext = Pick<VonContext, 'peer' | 'env' | 'links' | 'listener' | 'cfg' | 'stopped' | 'self' | 'info' | 'relevant' | 'insert' | 'bad' | 'rules' | 'unlawful' | 'tickets'>

/**
 * Joining the overlay: our own join query and its retries, and the queries of
 * others that we forward towards their acceptor, answer, or relay answers of.
 */
export class Joining {
  private nextQid = 1
  private query: { qid: number; gateway: PeerId } | undefined
  private joinRound = 0
  /** Sends the next query at once (its gateway's link failed). */
  private retryJoin: (() => void) | undefined
  private readonly joiners = new Map<PeerId, number>()
  /** The gateways of the last join (see usableGateways). */
  private gateways: readonly PeerId[] | (() => readonly PeerId[]) = []
  /** Looks again left in the current chain (see lookAgain); 0: none pending. */
  private looksLeft = 0
  private looks = 0
  /** Where peers we removed while their link stayed open last said they were, oldest first (bounded; see ownPlace). */
  private readonly places = new Map<PeerId, Previous>()
  /** Our last join ticket from the node, and when we got it (our clock). */
  private ticket: { ticket: JoinTicket; got: number } | undefined

  constructor(private readonly ctx: JoinContext) {}

  /** The gateways of the last join but this peer. */
  private allGateways(): PeerId[] {
    const all = typeof this.gateways === 'function' ? this.gateways() : this.gateways
    return all.filter((g) => g !== this.ctx.peer.localId)
  }

  /** The gateways of the last join but this peer, those the link layer ignores for misbehaving and (with `strangers`) our neighbours. */
  usableGateways(strangers = false): PeerId[] {
    const { peer, links } = this.ctx
    return this.allGateways().filter((g) => !links.isIgnored(g) && !(strangers && peer.table.has(g)))
  }

  /**
   * Looks for the world again from where we are, after cutting off a
   * neighbour that enclosed us for misbehaving: the nodes behind it may be
   * known to nobody else we hold (issue 23: honest peers whose only way into
   * the world was a flooder stayed an island of two or three, and one left
   * with no neighbour stayed joined as a world of one that took joiners in).
   *
   * Staying joined, a query for our own position goes through a gateway of our
   * last join that is neither our neighbour nor ignored; its answer is taken
   * as a join's (the acceptor and the nodes around us: hints our own cell
   * decides on). With no neighbour left, we are not in the world: we join
   * again, one pass over those gateways, then are a world of one as before
   * (our owner rejoins a peer left without links). While a query is out or no
   * gateway is usable, tried again a few times; one chain at a time.
   */
  lookAgain(): void {
    const pending = this.looksLeft > 0
    this.looksLeft = LOOK_TRIES
    // Not inside the link layer's close: the next event.
    if (!pending) this.ctx.env.timers.setTimeout(() => this.lookNow(), 0)
  }

  private lookNow(): void {
    const { peer, env, cfg } = this.ctx
    if (this.looksLeft <= 0 || this.ctx.stopped() || !peer.joined) {
      this.looksLeft = 0
      return
    }
    this.looksLeft--
    if (peer.table.size === 0) {
      this.looksLeft = 0
      if (this.usableGateways().length === 0) return
      peer.stats.orphaned++
      this.ctx.env.log.info('von: cut off from every neighbour, joining again', { peer: peer.localId.slice(0, 12) })
      peer.joined = false
      this.start(this.gateways, true)
      return
    }
    if (this.query === undefined) {
      const usable = this.usableGateways(true)
      if (usable.length > 0) {
        this.looksLeft = 0
        peer.stats.looks++
        this.sendQuery(usable[this.looks++ % usable.length]!, [])
        const qid = this.query!.qid
        // Unanswered (the gateway is gone, or the answer was lost): the next look may go.
        env.timers.setTimeout(() => {
          if (this.query?.qid === qid && peer.joined) this.query = undefined
        }, cfg.joinTimeoutMs)
        return
      }
    }
    if (this.looksLeft > 0) env.timers.setTimeout(() => this.lookNow(), LOOK_AGAIN_MS)
  }

  /**
   * Sends our query through the gateways in turn until an acceptor answers (see
   * VonPeer.join); without any, this peer starts the world. `once`: one pass
   * over them, then this peer is a world of one.
   */
  start(gateways: readonly PeerId[] | (() => readonly PeerId[]), once = false): void {
    this.query = undefined
    this.gateways = gateways
    const ctx = this.ctx
    const peer = ctx.peer
    // Gateways the link layer ignores for misbehaving would cost a join timeout each: asked only when no other is left.
    const fetch = (): PeerId[] => {
      const fair = this.usableGateways()
      return fair.length > 0 ? fair : this.allGateways()
    }
    let usable = fetch()
    if (usable.length === 0) return this.becomeJoined()
    let attempt = 0
    const round = ++this.joinRound
    const tryNext = (): void => {
      if (peer.joined || ctx.stopped() || round !== this.joinRound) return
      if (once && attempt >= usable.length) return this.becomeJoined()
      if (attempt > 0 && attempt % usable.length === 0) {
        const fresh = fetch()
        if (fresh.length > 0) usable = fresh
      }
      this.sendQuery(usable[attempt++ % usable.length]!, [])
      this.retryJoin = tryNext
      ctx.env.timers.setTimeout(tryNext, ctx.cfg.joinTimeoutMs)
    }
    tryNext()
  }

  private becomeJoined(): void {
    this.ctx.peer.joined = true
    this.query = undefined
    this.retryJoin = undefined
    this.ctx.listener?.onJoined?.()
  }

  /** Whether the link to `peer` serves a join: our gateway, or a joiner awaiting its answer. */
  insists(peer: PeerId): boolean {
    return this.query?.gateway === peer || this.joinerLinkWanted(peer)
  }

  /**
   * A neighbour left our table. If it keeps its link to us (we dropped it as
   * far, or it said a plain BYE), where it was still bounds the queries it
   * may ask (see ownPlace); one whose link closed, or that left the world,
   * may come back anywhere.
   */
  forget(n: Neighbour): void {
    if (!n.confirmed || !this.ctx.links.isOpen(n.id)) return
    this.places.delete(n.id)
    if (this.places.size >= MAX_PLACES) this.places.delete(this.places.keys().next().value!)
    this.places.set(n.id, { x: n.bx, y: n.by, at: n.at })
  }

  onLinkClosed(peer: PeerId): void {
    this.places.delete(peer)
    if (this.query?.gateway === peer) {
      // The gateway is gone or unreachable: try the next one now, not after the timeout.
      this.query = undefined
      const retry = this.retryJoin
      this.ctx.env.timers.setTimeout(() => retry?.(), 0)
    }
  }

  private sendQuery(gateway: PeerId, path: readonly PeerId[]): void {
    const { peer, links } = this.ctx
    const qid = this.nextQid++
    this.query = { qid, gateway }
    if (path.length === 0) links.connect(gateway)
    else links.connect(gateway, { via: path })
    this.withTicket((ticket) => {
      if (this.query?.qid !== qid || this.ctx.stopped()) return
      const msg: Query = { qid, joiner: peer.localId, x: peer.x, y: peer.y, aoi: peer.aoi, path: [], ...(ticket === undefined ? {} : { ticket }) }
      links.send(gateway, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(msg), Priority.MEDIUM)
    })
  }

  /** Calls `then` with a ticket for our place: the one we hold if fresh, else a new one from the node (or the stale one, or none, if it has none for us). */
  private withTicket(then: (ticket: JoinTicket | undefined) => void): void {
    const { tickets, peer, env } = this.ctx
    if (tickets === undefined) return then(undefined)
    const held = this.ticket
    if (held !== undefined && tickets.fresh(held.ticket, held.got, peer.x, peer.y, this.ctx.rules)) return then(held.ticket)
    tickets.fetch(peer.x, peer.y, (got) => {
      if (got !== undefined) this.ticket = { ticket: got, got: env.clock.now() }
      then(this.ticket?.ticket)
    })
  }

  /** Joiners whose query we took directly: keep their link until the answer is back. */
  private joinerLinkWanted(peer: PeerId): boolean {
    const until = this.joiners.get(peer)
    if (until === undefined) return false
    if (until > this.ctx.env.clock.now()) return true
    this.joiners.delete(peer)
    return false
  }

  onQuery(from: PeerId, payload: unknown): void {
    const { peer, links } = this.ctx
    const m = decodeQuery(payload)
    if (m === null) return this.ctx.bad(from)
    if (m.joiner === peer.localId && peer.joined && m.qid === this.query?.qid) {
      // Our look (see lookAgain) came back to us: the world around us holds us.
      this.query = undefined
      return
    }
    if (m.joiner === peer.localId || m.path.includes(peer.localId)) {
      peer.stats.joinLoops++
      return
    }
    // A forwarded query comes from the last hop on its path (that hop is where its answer goes back to).
    if (m.path.length > 0 && m.path[m.path.length - 1] !== from) return this.ctx.bad(from)
    if (!this.ownPlace(m)) {
      peer.stats.refusedQueries++
      // Its joiner asked us itself: a lie of its own. Forwarded: the hop may have passed on what it was told.
      if (from === m.joiner) this.ctx.unlawful(from, FORGED_WEIGHT)
      return
    }
    if (!peer.joined) {
      // Two lone peers joining through each other: the smaller id founds the world.
      if (this.query?.gateway !== from || from !== m.joiner || peer.localId > from) return
      this.becomeJoined()
    }
    if (from === m.joiner && this.joiners.size < MAX_PENDING_JOINERS) this.joiners.set(from, this.ctx.env.clock.now() + this.ctx.cfg.joinTimeoutMs)
    const next = this.closestTo(m.x, m.y)
    if (next !== undefined && m.path.length < MAX_PATH - 1) {
      peer.stats.queriesForwarded++
      const fwd: Query = { ...m, path: [...m.path, peer.localId] }
      links.send(next, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(fwd), Priority.MEDIUM)
      return
    }
    // This peer's cell holds the position (or the path is long: answer as a waypoint).
    const final = next === undefined
    // The nodes around a place go only to a joiner whose ticket from the node reaches it (see join-tickets.ts).
    const tickets = this.ctx.tickets
    if (final && tickets !== undefined && tickets.required() && (m.ticket === undefined || !tickets.covers(m.joiner, m.ticket, m.x, m.y, this.ctx.rules))) {
      peer.stats.unticketed++
      return
    }
    if (final) peer.stats.accepted++
    // A joiner hears of what a joiner at its place needs: no more than the world's AOI reaches.
    const nodes = final ? this.relevantTo(m.joiner, m.x, m.y, Math.min(m.aoi, this.ctx.cfg.aoiRadius)) : []
    const reply: Accept = { qid: m.qid, joiner: m.joiner, path: m.path, hop: m.path.length - 1, final, acceptor: this.ctx.info(), nodes }
    links.send(m.path.length === 0 ? from : m.path[m.path.length - 1]!, PROTOCOL.VON, VonMsg.ACCEPT, encodeAccept(reply), Priority.MEDIUM)
  }

  onAccept(from: PeerId, payload: unknown): void {
    const { peer, links } = this.ctx
    const m = decodeAccept(payload)
    if (m === null) return this.ctx.bad(from)
    if (m.hop >= 0) {
      // Relaying back along the path: only from the next hop (or the acceptor).
      if (m.path[m.hop] !== peer.localId) return this.ctx.bad(from)
      const expected = m.hop === m.path.length - 1 ? m.acceptor.id : m.path[m.hop + 1]
      if (from !== expected) return this.ctx.bad(from)
      const to = m.hop === 0 ? m.joiner : m.path[m.hop - 1]!
      links.send(to, PROTOCOL.VON, VonMsg.ACCEPT, encodeAccept({ ...m, hop: m.hop - 1 }), Priority.MEDIUM)
      return
    }
    if (m.joiner !== peer.localId || this.query === undefined || m.qid !== this.query.qid) return
    // The query's path leads from our gateway to the acceptor: introductions follow it.
    const route = m.path
    if (!m.final) {
      this.sendQuery(m.acceptor.id, route)
      return
    }
    if (peer.joined) this.query = undefined
    else this.becomeJoined()
    this.ctx.insert(m.acceptor, route.length > 0 ? route : undefined)
    for (const n of m.nodes) if (n.id !== peer.localId) this.ctx.insert(n, [m.acceptor.id])
  }

  /**
   * Whether a query may be for its joiner's own place (issue 23, finding 4).
   * A peer only ever queries for where it stands: to join, to join again, or
   * to look for the world around it (see lookAgain). One we hold as a
   * neighbour that spoke for itself cannot be farther from where it last said
   * it was than the world's speed limit carries it since (two buffers of
   * slack, as for hints), nor can one we dropped that kept its link to us (see
   * forget); a query for any other place is a tracker asking who is there. A
   * joiner we do not know may be anywhere, and a world without a speed limit
   * bounds nothing.
   */
  private ownPlace(m: Query): boolean {
    const n = this.ctx.peer.table.get(m.joiner)
    const at = n?.confirmed === true ? { x: n.bx, y: n.by, at: n.at } : this.places.get(m.joiner)
    if (at === undefined) return true
    const reach = reachSince(at, this.ctx.env.clock.now(), this.ctx.rules, 2 * this.ctx.cfg.buffer)
    return (m.x - at.x) ** 2 + (m.y - at.y) ** 2 <= reach * reach
  }

  /** The neighbour with an open link strictly closer to (x, y) than this peer; ties break on the smaller id. */
  private closestTo(x: number, y: number): PeerId | undefined {
    const { peer, links } = this.ctx
    let best: PeerId | undefined
    let bestD = (peer.x - x) ** 2 + (peer.y - y) ** 2
    let bestId: PeerId = peer.localId
    for (const n of peer.table.values()) {
      if (!links.isOpen(n.id)) continue
      const d = (n.x - x) ** 2 + (n.y - y) ** 2
      if (d < bestD || (d === bestD && n.id < bestId)) {
        best = n.id
        bestD = d
        bestId = n.id
      }
    }
    return best
  }

  /** The nodes a joiner at (x, y) needs: those in range, and its enclosing neighbours with it inserted. */
  private relevantTo(joiner: PeerId, x: number, y: number, aoi: number): NodeInfo[] {
    // What others only said of a node is not passed on (see Neighbour.confirmed).
    const known = [...this.ctx.peer.table.values()].filter((n) => n.id !== joiner && n.confirmed)
    const sites: Site[] = [{ x, y, ...jitterOf(joiner) }, this.ctx.self(), ...known]
    const enclosing = new Set(new LocalDiagram(sites).enclosing(0))
    const out: NodeInfo[] = []
    known.forEach((n, i) => {
      if (enclosing.has(i + 2) || this.ctx.relevant(x, y, aoi, n.x, n.y, n.aoi, 1)) out.push(n)
    })
    return out.slice(0, MAX_NODES)
  }
}

/** Attempts of one look-again chain (see Joining.lookAgain), this far apart. */
const LOOK_TRIES = 5
const LOOK_AGAIN_MS = 2000

/** A query for a place its joiner cannot be counts as this many bad frames against it (as a planted hint does). */
const FORGED_WEIGHT = 8

/** Peers dropped with their link open whose place we keep (see Joining.forget). */
const MAX_PLACES = 256

/** Joins a peer serves as gateway at once (each holds a link until answered). */
const MAX_PENDING_JOINERS = 32
