import type { PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { MAX_NODES, VonMsg, decodeNodes, decodePrefixes, decodeSketches, encodeNodes, encodePrefixes, idPrefix, readState, type NodeInfo, type StateOut } from './messages.js'
import type { VonContext } from './von-context.js'
import type { Housekeeping } from './von-housekeeping.js'
import { NeighbourTable, type Neighbour } from './neighbour-table.js'
import { enforce, onMap, SPEED_SLACK_MS } from './world-rules.js'

export type NeighbourContext = Pick<VonContext, 'peer' | 'env' | 'links' | 'listener' | 'gone' | 'dropped' | 'relevant' | 'insert' | 'remove' | 'bad' | 'hello' | 'rules' | 'unlawful' | 'cfg' | 'lookAgain'>

/**
 * What neighbours tell us: their links opening and closing, their moves and
 * greetings, the nodes they introduce (in full, NODES, or by id prefix, SYNC,
 * and ASK for those we miss), and their goodbyes.
 */
export class NeighbourMessages {
  /** Id prefixes we asked a neighbour about (SYNC), and when. */
  private readonly asked = new Map<number, number>()
  /** `ctx.peer`, `ctx.listener` and the clock, read once: a message reaches them without the context. */
  private readonly peer: NeighbourContext['peer']
  private readonly listener: NeighbourContext['listener']
  private readonly clock: NeighbourContext['env']['clock']

  constructor(
    private readonly ctx: NeighbourContext,
    private readonly housekeeping: Pick<Housekeeping, 'isEnclosing' | 'ownCell' | 'requestRepair' | 'enclosingOf'>,
  ) {
    this.peer = ctx.peer
    this.listener = ctx.listener
    this.clock = ctx.env.clock
  }

  onLinkOpen(peer: PeerId): void {
    if (this.peer.table.has(peer)) this.ctx.links.send(peer, PROTOCOL.VON, VonMsg.HELLO, this.ctx.hello(), Priority.MEDIUM)
  }

  onLinkClosed(peer: PeerId, reason: string): void {
    const { gone } = this.ctx
    if (!this.peer.table.has(peer)) return
    const enclosing = this.housekeeping.isEnclosing(peer)
    this.ctx.remove(peer)
    if (FAILED.has(reason)) {
      if (gone.size >= MAX_GONE) gone.delete(gone.keys().next().value!)
      gone.set(peer, this.clock.now() + GONE_MS)
    }
    // A neighbour vanished: re-announce the enclosing view so the hole is filled.
    this.housekeeping.requestRepair()
    // We cut off one that enclosed us (or our last): what lies behind it may be known to none of the others we hold.
    if (PUNISHED.has(reason) && (enclosing || this.peer.table.size === 0)) this.ctx.lookAgain()
  }

  onHello(from: PeerId, payload: unknown): void {
    const s = { x: 0, y: 0, aoi: 0, seq: 0, vx: 0, vy: 0 }
    const digest = readState(payload, s)
    if (digest === null) return this.ctx.bad(from)
    const table = this.peer.table
    this.ctx.gone.delete(from)
    let n = table.get(from)
    const lawful = this.lawful(from, s, n)
    if (n === undefined) {
      // One we dropped as far lately says "I hold you" again: taken back only if we need it too. A peer
      // that holds everyone (an AOI beyond the world's, issue 23 finding 4) is not held back by all for it.
      const dropped = this.ctx.dropped.get(from)
      if (dropped !== undefined && dropped > this.clock.now() && !this.wanted(s.x, s.y, s.aoi, this.housekeeping.ownCell())) return
      this.ctx.insert({ id: from, x: s.x, y: s.y, aoi: s.aoi, seq: s.seq }, undefined)
      n = table.get(from)
    } else {
      n.resync = true
    }
    if (n === undefined) return
    const was = n.confirmed
    if (!was && lawful) this.checkHint(n, s)
    table.update(n, s, this.clock.now(), this.ageMs(from))
    if (digest !== undefined) table.learn(n, digest)
    if (!was && n.confirmed) this.listener?.onEnter?.(from, s.x, s.y)
  }

  onMove(from: PeerId, payload: unknown): void {
    const peer = this.peer
    // Read into one object for every move: nothing below keeps it (insert copies).
    const s = MOVED
    const known = readState(payload, s)
    if (known === null) return this.ctx.bad(from)
    let n = peer.table.get(from)
    const lawful = this.lawful(from, s, n)
    if (n === undefined) {
      if (!this.ctx.relevant(peer.x, peer.y, peer.aoi, s.x, s.y, s.aoi, 1)) return
      this.ctx.insert({ id: from, x: s.x, y: s.y, aoi: s.aoi, seq: s.seq }, undefined)
      n = peer.table.get(from)
      if (n === undefined) return
    }
    const was = n.confirmed
    if (!was && lawful) this.checkHint(n, s)
    if (!peer.table.update(n, s, this.clock.now(), this.ageMs(from))) return
    if (known !== undefined) peer.table.learn(n, known)
    if (!was) this.listener?.onEnter?.(from, s.x, s.y)
    this.listener?.onMove?.(from, s.x, s.y, s.vx, s.vy)
  }

  /** Holds a state `from` sent of itself to the world's rules (clamped in place; see world-rules.ts); false if it broke one. */
  private lawful(from: PeerId, s: StateOut, n: Neighbour | undefined): boolean {
    const broken = enforce(s, n?.confirmed === true ? { x: n.bx, y: n.by, at: n.at } : undefined, this.clock.now(), this.ctx.rules)
    if (broken > 0) this.ctx.unlawful(from, broken)
    return broken === 0
  }

  /**
   * A hint's node spoke for itself: if it is far from where its teller said
   * (more than the world's speed limit explains since, plus two buffers of
   * prediction error), the teller planted it (issue 23, finding 1): counted
   * against the teller's link, so a planter's link closes and it is ignored.
   * Not when the node's own state broke the rules: then the node is the liar
   * (a teleporter), and the teller passed on what it was told.
   */
  private checkHint(n: Neighbour, s: StateOut): void {
    const teller = n.teller
    const { speedMax } = this.ctx.rules
    if (teller === undefined || speedMax === Infinity) return
    const now = this.clock.now()
    const at = NeighbourTable.predict(n, now)
    const slack = 2 * this.ctx.cfg.buffer + (speedMax * (now - n.at + SPEED_SLACK_MS)) / 1000
    if ((at.x - s.x) ** 2 + (at.y - s.y) ** 2 > slack * slack) this.ctx.unlawful(teller, PLANTED_WEIGHT)
  }

  /** How old a state from `peer` is on arrival: half the link's smoothed round trip. */
  private ageMs(peer: PeerId): number {
    const rtt = this.ctx.links.rtt(peer)
    return rtt === undefined || rtt.samples === 0 ? 0 : rtt.srttMs / 2
  }

  onNodes(from: PeerId, payload: unknown): void {
    const peer = this.peer
    const decoded = decodeNodes(payload)
    if (decoded === null) return this.ctx.bad(from)
    if (!peer.table.has(from) || !peer.joined) return
    // A node named off the map or with an AOI beyond the world's is a lie: dropped, and counted against the teller.
    const { rules } = this.ctx
    const nodes = decoded.filter((n) => n.aoi <= rules.aoiMax && onMap(n.x, n.y, rules))
    if (nodes.length < decoded.length) this.ctx.unlawful(from, decoded.length - nodes.length)
    const fresh = nodes.filter((n) => n.id !== peer.localId && !peer.table.has(n.id))
    if (fresh.length === 0) return
    // Keep those in range, and those that would enclose us: a point becomes our
    // Delaunay neighbour exactly when it is nearer than we are to some vertex of
    // our cell (it would take a piece of it). The cell is the last tick's.
    const cell = this.housekeeping.ownCell()
    const now = this.clock.now()
    // A teller has at most HINTS_PER_TELLER of its hints in our table at once: one that invents ids (issue 23,
    // finding 2) cannot fill the table and the link cap with nodes that never answer. An honest teller's hints
    // speak for themselves within a round trip, and what it could not tell now it tells again (resync, retell).
    // And at most HINTS_MAX hints in all, so Sybils around us cannot either.
    let room = HINTS_PER_TELLER
    let hints = 0
    for (const n of peer.table.values()) {
      if (n.confirmed) continue
      hints++
      if (n.teller === from) room--
    }
    room = Math.min(room, HINTS_MAX - hints)
    for (const n of fresh) {
      if (room <= 0) break
      const until = this.ctx.gone.get(n.id)
      if (until !== undefined && until > now) continue
      if (!this.wanted(n.x, n.y, n.aoi, cell)) continue
      this.ctx.insert(n, [from])
      if (peer.table.has(n.id)) room--
    }
  }

  /**
   * Whether a node at (x, y) is one we need: in range (the AOI a node claims is
   * capped by the world's rules), or nearer than we are to some vertex of our
   * cell (it would take a piece of it: a Delaunay neighbour). The cell is the last tick's.
   */
  private wanted(x: number, y: number, aoi: number, cell: readonly (readonly [number, number])[]): boolean {
    const peer = this.peer
    const takes = (v: readonly [number, number]): boolean => (v[0] - x) ** 2 + (v[1] - y) ** 2 < (v[0] - peer.x) ** 2 + (v[1] - peer.y) ** 2
    return this.ctx.relevant(peer.x, peer.y, peer.aoi, x, y, aoi, 1) || cell.length === 0 || cell.some(takes)
  }

  onBye(from: PeerId, leaving: boolean): void {
    const peer = this.peer
    const n = peer.table.get(from)
    if (n === undefined) return
    if (leaving) {
      this.ctx.remove(from)
      this.housekeeping.requestRepair()
      return
    }
    if (this.housekeeping.isEnclosing(from) || this.ctx.relevant(peer.x, peer.y, peer.aoi, n.x, n.y, n.aoi, 1)) {
      // We still need it: say so, and it inserts us again.
      this.ctx.links.send(from, PROTOCOL.VON, VonMsg.HELLO, this.ctx.hello(), Priority.MEDIUM)
      return
    }
    this.ctx.remove(from)
  }

  /** A neighbour named nodes relevant to us: ask for those we do not know (once a while each). */
  onSync(from: PeerId, payload: unknown): void {
    const peer = this.peer
    const prefixes = decodePrefixes(payload)
    if (prefixes === null) return this.ctx.bad(from)
    if (!peer.table.has(from) || !peer.joined) return
    const known = new Set<number>([idPrefix(peer.localId)])
    for (const n of peer.table.values()) known.add(n.prefix)
    const now = this.clock.now()
    for (const [id, until] of this.ctx.gone) if (until > now) known.add(idPrefix(id))
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
    if (missing.length > 0) this.ctx.links.send(from, PROTOCOL.VON, VonMsg.ASK, encodePrefixes(missing.slice(0, MAX_NODES)), Priority.MEDIUM)
  }

  /**
   * A neighbour sketched nodes that may enclose us (VonMsg.SKETCH): ask for
   * those we do not know and would take, by our own cell (once a while each).
   */
  onSketch(from: PeerId, payload: unknown): void {
    const peer = this.peer
    const sketches = decodeSketches(payload)
    if (sketches === null) return this.ctx.bad(from)
    if (!peer.table.has(from) || !peer.joined) return
    const { rules } = this.ctx
    const lawful = sketches.filter((n) => onMap(n.x, n.y, rules))
    if (lawful.length < sketches.length) this.ctx.unlawful(from, sketches.length - lawful.length)
    const known = new Set<number>([idPrefix(peer.localId)])
    for (const n of peer.table.values()) known.add(n.prefix)
    const now = this.clock.now()
    for (const [id, until] of this.ctx.gone) if (until > now) known.add(idPrefix(id))
    if (this.asked.size > MAX_ASKED) this.asked.clear()
    const cell = this.housekeeping.ownCell()
    const missing: number[] = []
    for (const n of lawful) {
      if (known.has(n.prefix) || !this.wanted(n.x, n.y, peer.aoi, cell)) continue
      const at = this.asked.get(n.prefix)
      if (at !== undefined && now - at < ASK_AGAIN_MS) continue
      this.asked.set(n.prefix, now)
      missing.push(n.prefix)
    }
    if (missing.length > 0) this.ctx.links.send(from, PROTOCOL.VON, VonMsg.ASK, encodePrefixes(missing.slice(0, MAX_NODES)), Priority.MEDIUM)
  }

  /** A neighbour misses nodes our SYNC or SKETCH named: tell it of those we still hold and hear from. */
  onAsk(from: PeerId, payload: unknown): void {
    const peer = this.peer
    const links = this.ctx.links
    const prefixes = decodePrefixes(payload)
    if (prefixes === null) return this.ctx.bad(from)
    const c = peer.table.get(from)
    if (c === undefined || !peer.joined) return
    const wanted = new Set(prefixes)
    const now = this.clock.now()
    const tell: NodeInfo[] = []
    // Only what we would tell it unasked (see Housekeeping.tick): those in its range, and those
    // enclosing it here; a peer asking for every prefix (issue 23, finding 4) learns no more.
    let ring: Set<PeerId> | undefined
    for (const d of peer.table.values()) {
      if (d === c || !wanted.has(d.prefix) || !d.confirmed || !links.isOpen(d.id)) continue
      if (!this.ctx.relevant(c.x, c.y, c.aoi, d.x, d.y, d.aoi, 1) && !(ring ??= this.housekeeping.enclosingOf(c)).has(d.id)) continue
      c.told.set(d.id, now)
      tell.push(d)
    }
    if (tell.length > 0) links.send(from, PROTOCOL.VON, VonMsg.NODES, encodeNodes(tell), Priority.MEDIUM)
  }
}

/**
 * How long the notices of a neighbour whose link failed are ignored: its other
 * neighbours detect a crash within about the link's dead time of us.
 */
const GONE_MS = 5000
/** Link close reasons that say the peer may be gone (not that it closed the link). */
const FAILED = new Set(['timeout', 'connect-timeout', 'unknown-peer', 'no-signaling-route'])
const MAX_GONE = 256
/** Link close reasons that say our link layer cut the peer off for misbehaving (see LinkManager.punish). */
const PUNISHED = new Set(['flood', 'protocol-violation'])
/**
 * What a planted node weighs against its teller's link (a link closes past 64):
 * an honest teller's word is a prediction a few units off, never two buffers,
 * so a few plants are proof enough (an honest teller may pass on a jump it was told).
 */
const PLANTED_WEIGHT = 8
/** Most hints one neighbour may have in our table at once (see onNodes). */
const HINTS_PER_TELLER = 8
/** Most hints in our table at once (see onNodes). */
const HINTS_MAX = 24
/** Where onMove reads each move (see readState). */
const MOVED = { x: 0, y: 0, aoi: 0, seq: 0, vx: 0, vy: 0 }

/** A node named by SYNC is asked for again after this long if it still is not known. */
const ASK_AGAIN_MS = 250
const MAX_ASKED = 1024
