import type { PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { LocalDiagram, type Site } from './geometry.js'
import { VonMsg, encodeNodes, encodePrefixes, encodeSketches, knows, type NodeInfo } from './messages.js'
import { DIGEST, type Neighbour } from './neighbour-table.js'
import type { VonContext } from './von-context.js'

export type HousekeepingContext = Pick<VonContext, 'peer' | 'env' | 'links' | 'cfg' | 'gone' | 'dropped' | 'stopped' | 'self' | 'relevant' | 'reach' | 'remove' | 'broadcastState' | 'tickDigest'>

/**
 * The tick's per-site scratch, one for every peer (a tick runs to its end before
 * any other): typed arrays of more than 64 bytes live outside the JS heap, and
 * making two at every tick of every peer cost an allocation each there, while
 * a pair per peer is memory the tick finds cold.
 */
const scratch = { reach: new Float64Array(64), mark: new Int32Array(65) }

/**
 * The periodic part of a VON peer: once per tick it draws the local diagram and
 * does mutual notification, drops and crowding control over it.
 */
export class Housekeeping {
  private diagram: LocalDiagram | undefined
  private diagramSites: (Site & { id: PeerId })[] = []
  private selfEnclosing = new Set<PeerId>()
  private repair = false
  /** Round-robin position of the slow resync (see VonInit.resyncMs). */
  private resyncCursor = 0
  private timer: unknown

  constructor(private readonly ctx: HousekeepingContext) {}

  /** Whether `id` is an enclosing neighbour in the latest local diagram. */
  isEnclosing(id: PeerId): boolean {
    return this.selfEnclosing.has(id)
  }

  /** Whether `id`'s cell reaches beyond this peer's AOI (a boundary neighbour). */
  isBoundary(id: PeerId): boolean {
    const { peer } = this.ctx
    const i = this.diagramSites.findIndex((n) => n.id === id)
    return i > 0 && this.diagram !== undefined && this.diagram.reachesBeyond(i, peer.x, peer.y, peer.aoi)
  }

  /**
   * The nodes of the last tick's diagram that enclose neighbour `c` (for one we
   * do not need, only the STRAY_POINTERS nearest it: see tick).
   */
  enclosingOf(c: Neighbour): Set<PeerId> {
    const { peer } = this.ctx
    const i = this.diagramSites.findIndex((n) => n.id === c.id)
    if (i <= 0 || this.diagram === undefined) return new Set()
    let ring = this.diagram.enclosing(i).map((j) => this.diagramSites[j]!).filter((d) => d.id !== peer.localId)
    if (!this.selfEnclosing.has(c.id) && !this.ctx.relevant(peer.x, peer.y, peer.aoi, c.x, c.y, c.aoi, 1)) {
      const far = (d: Site): number => (d.x - c.x) ** 2 + (d.y - c.y) ** 2
      ring = ring.sort((a, b) => far(a) - far(b)).slice(0, STRAY_POINTERS)
    }
    return new Set(ring.map((d) => d.id))
  }

  /** Our cell in the last tick's diagram (empty before the first). */
  ownCell(): readonly (readonly [number, number])[] {
    return this.diagram?.cell(0) ?? []
  }

  /** A neighbour vanished: at the next tick, re-announce the enclosing view so the hole is filled. */
  requestRepair(): void {
    this.repair = true
  }

  /** `id` left the table. */
  forget(id: PeerId): void {
    this.selfEnclosing.delete(id)
  }

  start(): void {
    if (this.timer !== undefined || this.ctx.stopped()) return
    const vonTick = (): void => {
      this.timer = undefined
      if (this.ctx.stopped()) return
      this.tick()
      this.timer = this.ctx.env.timers.setTimeout(vonTick, this.ctx.cfg.tickMs)
    }
    this.timer = this.ctx.env.timers.setTimeout(vonTick, this.ctx.cfg.tickMs)
  }

  stop(): void {
    if (this.timer !== undefined) this.ctx.env.timers.clearTimeout(this.timer)
  }

  /**
   * Mutual notification, drops and crowding control, once per tick over one
   * fresh diagram: for each neighbour that moved or arrived since the last tick,
   * tell it about our other neighbours that are relevant to it (in range, or
   * enclosing it in our diagram) and that it does not hold, by the digest of
   * its table it sent us last (VonMsg.MOVE). A crowd sends none: it hears of
   * what became relevant to it since the last tick.
   */
  private tick(): void {
    const { peer, links, cfg } = this.ctx
    if (!peer.joined) return
    this.ctx.tickDigest()
    const now = this.ctx.env.clock.now()
    peer.table.advance(now)
    const sites = [...peer.table.values()]
    const count = sites.length
    const all: (Site & { id: PeerId })[] = new Array<Site & { id: PeerId }>(count + 1)
    all[0] = { id: peer.localId, ...this.ctx.self() }
    for (let i = 0; i < count; i++) all[i + 1] = sites[i]!
    this.diagramSites = all
    // The last tick's diagram is replaced now: its arrays are reused when the site count is the same.
    const diagram = new LocalDiagram(all, this.diagram)
    this.diagram = diagram
    const mine = new Set<PeerId>()
    for (const j of diagram.enclosing(0)) mine.add(all[j]!.id)
    this.keepEnclosingOfConfirmed(all, mine)
    this.selfEnclosing = mine
    // The ids of a crowd's enclosing neighbours, for the next tick's transition test (see below).
    const enclosing: (readonly PeerId[] | undefined)[] = new Array<readonly PeerId[] | undefined>(count)
    for (let i = 0; i < count; i++) {
      if (sites[i]!.knownCount !== DIGEST.CROWD) continue
      const at = diagram.enclosing(i + 1)
      const ids = new Array<PeerId>(at.length)
      for (let k = 0; k < at.length; k++) ids[k] = all[at[k]!]!.id
      enclosing[i] = ids
    }
    const repair = this.repair
    this.repair = false
    // Only peers we hear from are news for others: one still connecting may be gone.
    const linked = new Array<boolean>(count)
    // Reach of each site's AOI: reach grows with the AOI, so a pair's reach is the larger of the two.
    if (scratch.reach.length < count) scratch.reach = new Float64Array(Math.max(count, 2 * scratch.reach.length))
    const reach = scratch.reach
    let news = false
    for (let i = 0; i < count; i++) {
      const n = sites[i]!
      linked[i] = links.linkState(n.id) === 'open'
      if (linked[i] && !n.linkedBefore) news = true
      reach[i] = this.ctx.reach(n.aoi, 1)
    }
    const crowded = count > CROWDED_TABLE
    if (count > 0 && cfg.resyncMs > 0) {
      const resync = Math.ceil((count * cfg.tickMs) / cfg.resyncMs)
      for (let i = 0; i < resync; i++) sites[(this.resyncCursor + i) % count]!.resync = true
      this.resyncCursor = (this.resyncCursor + resync) % count
    }
    // mark[j] === ci + 1 while site j (diagram index) encloses c = sites[ci].
    if (scratch.mark.length < count + 1) scratch.mark = new Int32Array(Math.max(count + 1, 2 * scratch.mark.length))
    const mark = scratch.mark
    mark.fill(0, 0, count + 1)
    for (let ci = 0; ci < count; ci++) {
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
      // A repair in a crowd too: it names our whole table to each enclosing neighbour, from each of
      // theirs at once (in full that was 3 KB frames, cut in pieces, at every link a crowd closes).
      const naming = (c.resync || !c.seen || repairing) && crowded
      // Without a digest yet, c hears what is relevant to it at its first tick
      // with us, then nothing until one comes (in its HELLO): it may not hold
      // us, and then it ignores what we say.
      if (c.knownCount === DIGEST.NEVER || (!repairing && !naming && !c.resync && !c.changed && !news)) continue
      const digest = c.knownCount >= 0
      for (const j of diagram.enclosing(ci + 1)) mark[j] = ci + 1
      // A neighbour we do not need (out of range and not enclosing us: one that dialled us from afar,
      // or one about to be dropped as far) hears of what is in its range, but of those that enclose it
      // here only the STRAY_POINTERS nearest it: enough for a joiner an acceptor sent to us wrongly to
      // find its way, while a peer that dials everyone it hears of (issue 23, finding 4) is told a path
      // back towards its own place, not the ring of every peer it reaches.
      const stray = !mine.has(c.id) && !this.ctx.relevant(peer.x, peer.y, peer.aoi, c.x, c.y, c.aoi, 1)
      let strays: (typeof sites)[number][] | undefined
      let tell: NodeInfo[] | undefined
      let named: number[] | undefined
      let sketched: { prefix: number; x: number; y: number }[] | undefined
      for (let di = 0; di < count; di++) {
        const d = sites[di]!
        // Only what spoke for itself is news for others: a hint is not passed on, and one still connecting may be gone.
        if (d === c || !linked[di] || !d.confirmed) continue
        const r = Math.max(reach[ci]!, reach[di]!)
        const d2 = (c.x - d.x) ** 2 + (c.y - d.y) ** 2
        const near = d2 <= r * r
        // Out of range: when they come in range again, c hears of d at once.
        if (!near && c.told.size > 0) c.told.delete(d.id)
        if (!repairing && !near && mark[di + 1] !== ci + 1) continue
        const toldMap = near ? c.told : c.toldEnclosing
        // c holds d already, by its latest digest (a few moves old at most; a
        // prefix that collides leaves d untold while both stay).
        if (digest && knows(c.known, c.knownCount, d.prefix >>> 16)) continue
        const told = toldMap.get(d.id)
        // Told while they stayed relevant: c did not take d (it found d irrelevant, or the link failed).
        const toldLately = told !== undefined && now - told < RETELL_MS
        if (stray && !near) {
          ;(strays ??= []).push(d)
          continue
        }
        if ((repairing || c.resync) && !naming) {
          // After a loss, our enclosing neighbours hear of everyone we know: their
          // own cells decide who now encloses them across the hole (onNodes).
          if (!repairing && toldLately) continue
          toldMap.set(d.id, now)
          ;(tell ??= []).push(d)
          continue
        }
        if (naming || (!digest && !d.linkedBefore && crowded)) {
          ;(named ??= []).push(d.prefix)
          continue
        }
        // Without a digest (c is new, or a crowd): d is news if it is relevant
        // now and was not at the last tick (c moved towards d, or d towards c;
        // a new c has not been seen, so all is news).
        if (!digest && d.linkedBefore && c.seen && ((c.ox - d.ox) ** 2 + (c.oy - d.oy) ** 2 <= r * r || c.enclosing.includes(d.id))) continue
        if (toldLately) continue
        toldMap.set(d.id, now)
        // In a crowd, by prefix: c misses d, and so may hear of it from many at once.
        if (digest && crowded) (named ??= []).push(d.prefix)
        // Out of c's range, d may enclose c: c's own cell decides, and most such are refused: a sketch, c asks if it takes d.
        else if (digest && !near) (sketched ??= []).push(d)
        else (tell ??= []).push(d)
      }
      if (strays !== undefined) {
        const far = (d: NodeInfo): number => (d.x - c.x) ** 2 + (d.y - c.y) ** 2
        strays.sort((a, b) => far(a) - far(b))
        // The nearest, each once a while (not the next nearest once those were told).
        for (let k = 0; k < Math.min(STRAY_POINTERS, strays.length); k++) {
          const d = strays[k]!
          const told = c.toldEnclosing.get(d.id)
          if (told !== undefined && now - told < RETELL_MS) continue
          c.toldEnclosing.set(d.id, now)
          // As any node out of its range that may enclose it: a sketch when it sent a digest (see below).
          if (digest) (sketched ??= []).push(d)
          else (tell ??= []).push(d)
        }
      }
      if (sketched !== undefined) links.send(c.id, PROTOCOL.VON, VonMsg.SKETCH, encodeSketches(sketched), Priority.MEDIUM)
      if (tell !== undefined) {
        peer.stats.notificationsSent++
        links.send(c.id, PROTOCOL.VON, VonMsg.NODES, encodeNodes(tell), Priority.MEDIUM)
      }
      if (named !== undefined) links.send(c.id, PROTOCOL.VON, VonMsg.SYNC, encodePrefixes(named), Priority.MEDIUM)
    }
    for (let ci = 0; ci < count; ci++) peer.table.settle(sites[ci]!, enclosing[ci], linked[ci]!)
    this.dropFar(now)
    this.controlCrowding()
  }

  /**
   * Nodes that only others named (hints, not yet confirmed) may take the cells
   * of honest neighbours: invented ids around us (issue 23, finding 2) would
   * have them dropped as no longer enclosing. Those that enclose us in a
   * diagram of confirmed neighbours only are kept enclosing too. Hints are
   * brief in an honest world (a link's setup), so the second diagram is rare.
   */
  private keepEnclosingOfConfirmed(all: readonly (Site & { id: PeerId; confirmed?: boolean })[], mine: Set<PeerId>): void {
    let hints = false
    for (let i = 1; i < all.length && !hints; i++) hints = all[i]!.confirmed === false
    if (!hints) return
    const confirmed = all.filter((s, i) => i === 0 || s.confirmed === true)
    for (const j of new LocalDiagram(confirmed).enclosing(0)) mine.add(confirmed[j]!.id)
  }

  private dropFar(now: number): void {
    const { peer } = this.ctx
    for (const [id, until] of this.ctx.gone) if (until <= now) this.ctx.gone.delete(id)
    for (const [id, until] of this.ctx.dropped) if (until <= now) this.ctx.dropped.delete(id)
    for (const n of [...peer.table.values()]) {
      if (this.selfEnclosing.has(n.id) || this.ctx.relevant(peer.x, peer.y, peer.aoi, n.x, n.y, n.aoi, 1.25)) {
        n.farSince = -1
      } else if (n.farSince < 0) {
        n.farSince = now
      } else if (now - n.farSince >= this.ctx.cfg.dropAfterMs) {
        peer.stats.dropped++
        this.ctx.links.send(n.id, PROTOCOL.VON, VonMsg.BYE, null, Priority.MEDIUM)
        this.ctx.remove(n.id)
        const dropped = this.ctx.dropped
        if (dropped.size >= MAX_DROPPED) dropped.delete(dropped.keys().next().value!)
        dropped.set(n.id, now + DROPPED_MS)
      }
    }
  }

  /** Shrinks the AOI while it holds too many neighbours; grows it back as the crowd disperses. */
  private controlCrowding(): void {
    const { peer, cfg } = this.ctx
    const cap = cfg.maxAoiNeighbours
    const inside = (r: number): number => {
      let count = 0
      for (const n of peer.table.values()) if ((n.x - peer.x) ** 2 + (n.y - peer.y) ** 2 <= r * r) count++
      return count
    }
    const min = cfg.aoiRadius * cfg.minAoiFraction
    let aoi = peer.aoi
    if (inside(aoi) > cap && aoi > min) {
      aoi = Math.max(min, aoi * 0.9)
      peer.stats.aoiShrinks++
    } else if (aoi < cfg.aoiRadius) {
      const grown = Math.min(cfg.aoiRadius, aoi * 1.05)
      if (inside(this.ctx.reach(grown, 1)) <= cap * 0.8) aoi = grown
    }
    if (aoi !== peer.aoi) {
      peer.aoi = aoi
      this.ctx.broadcastState()
    }
  }
}

/**
 * A neighbour told of a node (that it did not take, by its digest) hears of it
 * again after this long while the two stay relevant to each other: it found the
 * node irrelevant by its own fuller diagram, or the link failed.
 */
const RETELL_MS = 10_000
/** A neighbour dropped as far must show we need it to be taken back by its HELLO this long (see NeighbourMessages.onHello). */
const DROPPED_MS = 10_000
const MAX_DROPPED = 256

/** A neighbour we do not need hears of this many of the nodes enclosing it in our diagram (the nearest it; see tick). */
const STRAY_POINTERS = 2

/** A table larger than this is a crowd: news to neighbours goes as SYNC (see tick). */
export const CROWDED_TABLE = 24
