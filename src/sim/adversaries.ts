import { encodeFrame } from '../core/codec.js'
import type { Timers } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { VonMsg, decodeAccept, decodeNodes, encodeNodes, encodeQuery, encodeState, type NodeInfo } from '../von/messages.js'
import type { VonPeer } from '../von/von-peer.js'
import type { JoinTicket, JoinTickets } from '../von/join-tickets.js'
import type { Point } from './mobility.js'
import type { SeededRng } from './rng.js'

/**
 * The hostile peers of issue 23, one kind per finding. Each runs the real
 * VonPeer (a reachable member of the overlay) and misbehaves on top of it with
 * frames it crafts and sends through its own LinkManager:
 * - plant: NODES naming real players at false places next to the receiver (finding 1);
 * - fabricate: NODES of 64 invented ids around the receiver (finding 2);
 * - flood: valid-looking MOVEs or frames of an unknown type, over budget, written
 *   straight onto its connections (finding 3);
 * - track: an AOI of 1e7 and forged join queries all over the map (finding 4),
 *   with the tickets the node gives it for those places (if any);
 * - track-path: the world's AOI, and join queries all over the map that it
 *   passes on as a gateway would, for invented joiners (finding 4, the path trick);
 * - teleport: jumps across and off the map (finding 6);
 * - sybil-eclipse: k identities on a ring around one honest victim that withhold
 *   every notice from it and feed it invented and planted nodes instead;
 * - silent: joins, keeps its links, then never says or handles a VON word.
 */
export const ATTACK_KINDS = ['plant', 'fabricate', 'flood', 'track', 'track-path', 'teleport', 'sybil-eclipse', 'silent'] as const
export type AttackKind = (typeof ATTACK_KINDS)[number]
/** A hostile peer with nothing to do: a sybil left over when fewer than k remain for another victim. */
export type HostileRole = AttackKind | 'idle'

export interface AdversaryInit {
  /** Share of the peers that are hostile (0..1); peer 0, which starts the world, is always honest. */
  fraction: number
  /** Kinds, dealt in turn over the hostile peers. */
  attacks: readonly AttackKind[]
  /** Sybil identities around each victim. @default 8 */
  sybils?: number
}

/** Who is hostile and how: the same in every shard (it derives from the seed). */
export interface Cast {
  /** Role of each peer by index; undefined: honest. */
  readonly roles: readonly (HostileRole | undefined)[]
  /** Each sybil's victim and place on the ring around it. */
  readonly rings: ReadonlyMap<number, Ring>
  /** The sybils' victims (honest). */
  readonly victims: readonly number[]
}

export interface Ring {
  readonly victim: number
  readonly slot: number
  readonly size: number
}

/** Parses --attack: a comma list of kinds, or `all`. */
export function parseAttacks(raw: string): AttackKind[] {
  if (raw === 'all') return [...ATTACK_KINDS]
  const kinds = raw.split(',').map((k) => k.trim())
  for (const k of kinds) if (!(ATTACK_KINDS as readonly string[]).includes(k)) throw new Error(`--attack: unknown kind "${k}" (kinds: ${ATTACK_KINDS.join(', ')}, or all)`)
  return [...new Set(kinds)] as AttackKind[]
}

/**
 * Draws the hostile peers (round(fraction x peers), never peer 0), deals them
 * the kinds in turn, groups the sybils k at a time around victims drawn from
 * the honest peers (fewer than k: one group of them all if there is no other;
 * else the rest stay idle).
 */
export function castAdversaries(peers: number, init: AdversaryInit, rng: SeededRng): Cast {
  const order = Array.from({ length: Math.max(0, peers - 1) }, (_, i) => i + 1)
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const count = Math.min(order.length, Math.round(init.fraction * peers))
  const roles: (HostileRole | undefined)[] = new Array<HostileRole | undefined>(peers).fill(undefined)
  const sybils: number[] = []
  for (let h = 0; h < count; h++) {
    const kind = init.attacks[h % init.attacks.length]!
    roles[order[h]!] = kind
    if (kind === 'sybil-eclipse') sybils.push(order[h]!)
  }
  const k = Math.max(1, init.sybils ?? 8)
  const groups = sybils.length >= k ? Math.floor(sybils.length / k) : sybils.length > 0 ? 1 : 0
  const size = Math.min(k, sybils.length)
  const rings = new Map<number, Ring>()
  const victims: number[] = []
  for (let g = 0; g < groups && count + g < order.length; g++) {
    const victim = order[count + g]!
    victims.push(victim)
    for (let slot = 0; slot < size; slot++) rings.set(sybils[g * size + slot]!, { victim, slot, size })
  }
  for (const s of sybils) if (!rings.has(s)) roles[s] = 'idle'
  return { roles, rings, victims }
}

/** Where a sybil stands: on a ring around its victim, inside the victim's AOI (clamped to the map). */
export function ringPosition(ring: Ring, victim: Point, aoi: number, width: number, height: number, out: Point): void {
  const a = (2 * Math.PI * ring.slot) / ring.size
  out.x = Math.min(width, Math.max(0, victim.x + RING_AOI_FRACTION * aoi * Math.cos(a)))
  out.y = Math.min(height, Math.max(0, victim.y + RING_AOI_FRACTION * aoi * Math.sin(a)))
}

/** What an adversary may know of the world: every peer's id and true position, and who is honest. */
export interface AdversaryView {
  readonly peers: number
  readonly aoi: number
  readonly width: number
  readonly height: number
  id(index: number): PeerId
  pos(index: number): Point
  honest(index: number): boolean
  /** Whether `id` is an honest peer's (false for ids nobody has). */
  honestId(id: PeerId): boolean
}

/** The AOI of a tracker (finding 4 claimed 1e7). */
export const TRACKER_AOI = 1e7

/**
 * One hostile peer's misbehaviour. `links` (see gate) is what its VonPeer
 * sends and receives through: a sybil withholds notices there, a silent peer
 * everything, a tracker reads what it learns.
 */
export class Adversary {
  /** Honest ids honest peers told this peer of (trackers: NODES and ACCEPT it received; what other hostile peers pass on is theirs). */
  readonly learned = new Set<PeerId>()
  /** Of those, the ones the answers to its forged queries named. */
  readonly learnedByQuery = new Set<PeerId>()
  private flooding: PeerId[] = []
  private floods = 0
  private queries = 0
  private teleports = 0
  private nextTeleportAt = 0
  /** Its VonPeer (see attach): made after the gate it sends through. */
  private von!: VonPeer
  /** The bootstrap node's join tickets, as its VonPeer has them (undefined: a world without). */
  private tickets: JoinTickets | undefined
  /** The last ticket the node gave it for a place of its choosing. */
  private ticket: JoinTicket | undefined

  constructor(
    readonly role: HostileRole,
    readonly index: number,
    private readonly links: LinkManager,
    private readonly view: AdversaryView,
    private readonly rng: SeededRng,
    private readonly timers: Timers,
    private readonly now: () => number,
    private readonly ring: Ring | undefined,
  ) {}

  /** The VonPeer made with `gate()` as its links. */
  attach(von: VonPeer, tickets?: JoinTickets): void {
    this.von = von
    this.tickets = tickets
  }

  /** Starts its timers (call once, at its join). */
  start(): void {
    if (this.role === 'idle' || this.role === 'silent' || this.role === 'teleport') return
    const every = this.role === 'flood' ? FLOOD_BATCH_MS : this.tracks() ? QUERY_EVERY_MS : LIE_EVERY_MS
    const tick = (): void => {
      if (this.von.joined) this.act()
      this.timers.setTimeout(tick, every)
    }
    this.timers.setTimeout(tick, every)
  }

  /** The LinkManager its VonPeer uses: the real one, with what this adversary withholds or reads. */
  gate(): LinkManager {
    const links = this.links
    const withheld = (to: PeerId, proto: number, type: number): boolean => {
      if (proto !== PROTOCOL.VON) return false
      if (this.role === 'silent') return this.von.joined
      return this.ring !== undefined && to === this.view.id(this.ring.victim) && (type === VonMsg.NODES || type === VonMsg.SYNC)
    }
    const own = {
      send: (peer: PeerId, proto: number, type: number, payload: unknown, priority: Priority, opts?: { key?: string }) =>
        withheld(peer, proto, type) ? ('rejected' as const) : links.send(peer, proto, type, payload, priority, opts),
      broadcast: (peers: Iterable<PeerId>, proto: number, type: number, payload: unknown, priority: Priority, opts?: { key?: string }) =>
        links.broadcast([...peers].filter((p) => !withheld(p, proto, type)), proto, type, payload, priority, opts),
      handle: (proto: number, type: number, handler: (from: PeerId, payload: unknown) => void) =>
        links.handle(proto, type, (from, payload) => {
          if (proto === PROTOCOL.VON && this.role === 'silent' && this.von.joined) return
          if (this.tracks() && this.view.honestId(from)) this.read(type, payload)
          handler(from, payload)
        }),
    } as Record<string | symbol, unknown>
    const bound = new Map<string | symbol, unknown>()
    return new Proxy(links, {
      get(target, prop) {
        if (prop in own) return own[prop]
        const v = Reflect.get(target, prop, target) as unknown
        if (typeof v !== 'function') return v
        let f = bound.get(prop)
        if (f === undefined) bound.set(prop, (f = (v as (...a: unknown[]) => unknown).bind(target)))
        return f
      },
    })
  }

  /** Where its VonPeer says it is this step: a teleporter jumps every few seconds, across or off the map. */
  position(p: Point): Point {
    if (this.role !== 'teleport' || !this.von.joined) return p
    const now = this.now()
    if (now < this.nextTeleportAt) return p
    this.nextTeleportAt = now + TELEPORT_EVERY_MS
    const { width, height } = this.view
    this.teleports++
    // Off the map (x = 1e6, finding 6 used 1e7 against a map without edge), or a jump to anywhere on it.
    if (this.teleports % 2 === 0) return { x: OFF_MAP, y: p.y }
    return { x: this.rng.next() * width, y: this.rng.next() * height }
  }

  private act(): void {
    switch (this.role) {
      case 'plant':
        return this.lie((t) => this.planted(t, PLANTED_PER_MESSAGE))
      case 'fabricate':
        return this.lie((t) => this.invented(t, MAX_INVENTED, 30))
      case 'sybil-eclipse': {
        const victim = this.view.id(this.ring!.victim)
        const at = this.von.table.get(victim)
        if (at === undefined || !this.links.isOpen(victim)) return
        const lie = [...this.invented(at, MAX_INVENTED - PLANTED_PER_MESSAGE, 0.25 * this.view.aoi), ...this.planted(at, PLANTED_PER_MESSAGE)]
        this.links.send(victim, PROTOCOL.VON, VonMsg.NODES, encodeNodes(lie), Priority.MEDIUM)
        return
      }
      case 'flood':
        return this.flood()
      case 'track':
        return this.forgeQuery()
      case 'track-path':
        return this.forgePassedQuery()
    }
  }

  /** A tracker: reads every node list it gets. */
  tracks(): boolean {
    return this.role === 'track' || this.role === 'track-path'
  }

  /** Sends each open neighbour (up to LIE_TARGETS) the nodes `make` invents for it. */
  private lie(make: (target: { id: PeerId; x: number; y: number }) => NodeInfo[]): void {
    let sent = 0
    for (const n of this.von.table.values()) {
      if (sent >= LIE_TARGETS) break
      if (!n.confirmed || !this.links.isOpen(n.id)) continue
      this.links.send(n.id, PROTOCOL.VON, VonMsg.NODES, encodeNodes(make(n)), Priority.MEDIUM)
      sent++
    }
  }

  /** Real honest players (not the target) placed at random within half an AOI of the target. */
  private planted(t: { id: PeerId; x: number; y: number }, count: number): NodeInfo[] {
    const out: NodeInfo[] = []
    for (let tries = 0; out.length < count && tries < 4 * count; tries++) {
      const i = this.rng.int(this.view.peers)
      const id = this.view.id(i)
      if (!this.view.honest(i) || id === t.id) continue
      const a = this.rng.next() * 2 * Math.PI
      const r = this.rng.next() * 0.5 * this.view.aoi
      out.push(this.node(id, t.x + r * Math.cos(a), t.y + r * Math.sin(a)))
    }
    return out
  }

  /** Invented ids on a circle of `radius` around the target. */
  private invented(t: { x: number; y: number }, count: number, radius: number): NodeInfo[] {
    return Array.from({ length: count }, () => {
      const a = this.rng.next() * 2 * Math.PI
      return this.node(this.inventedId(), t.x + radius * Math.cos(a), t.y + radius * Math.sin(a))
    })
  }

  private inventedId(): PeerId {
    return Array.from(this.rng.bytes(32), (b) => b.toString(16).padStart(2, '0')).join('') as PeerId
  }

  private node(id: PeerId, x: number, y: number): NodeInfo {
    const { width, height, aoi } = this.view
    return { id, x: Math.min(width, Math.max(0, x)), y: Math.min(height, Math.max(0, y)), aoi, seq: 0 }
  }

  /**
   * Up to FLOOD_TARGETS neighbours at a time, each at FLOOD_FACTOR times the
   * receiver's HIGH frame budget, written onto the connection (its own link
   * layer would pace them): valid moves to every other target, frames of an
   * unknown type to the rest. A closed link makes room for the next neighbour.
   */
  private flood(): void {
    this.flooding = this.flooding.filter((p) => this.links.isOpen(p))
    for (const n of this.von.table.values()) {
      if (this.flooding.length >= FLOOD_TARGETS) break
      if (this.links.isOpen(n.id) && !this.flooding.includes(n.id)) this.flooding.push(n.id)
    }
    const { x, y, aoi, seq } = this.von
    const move = encodeFrame(PROTOCOL.VON, VonMsg.MOVE, encodeState({ x, y, aoi, seq, vx: 0, vy: 0 }))
    const unknown = encodeFrame(PROTOCOL.VON, UNKNOWN_TYPE, [1, 2, 3, 4, 5])
    const perBatch = Math.ceil((FLOOD_FRAMES_PER_SEC * FLOOD_BATCH_MS) / 1000)
    for (const peer of this.flooding) {
      const conn = this.links.link(peer)?.conn
      if (conn === undefined) continue
      const frame = this.floods++ % 2 === 0 ? move : unknown
      for (let i = 0; i < perBatch && conn.bufferedAmount < FLOOD_BUFFER_BYTES; i++) conn.send(frame)
    }
  }

  /** A join query for a random point of the map with an AOI of 1e7, as if it joined there. */
  private forgeQuery(): void {
    const open = [...this.von.table.keys()].filter((id) => this.links.isOpen(id))
    if (open.length === 0) return
    const to = open[this.rng.int(open.length)]!
    const query = { qid: FORGED_QID + this.queries++, joiner: this.von.localId, x: this.rng.next() * this.view.width, y: this.rng.next() * this.view.height, aoi: TRACKER_AOI, path: [] }
    const send = (): void => {
      const ticket = this.ticket === undefined ? {} : { ticket: this.ticket }
      this.links.send(to, PROTOCOL.VON, VonMsg.QUERY, encodeQuery({ ...query, ...ticket }), Priority.MEDIUM)
    }
    if (this.tickets === undefined) return send()
    // It asks the node for a ticket there (refused beyond the speed limit from its last), and sends what it holds.
    this.tickets.fetch(query.x, query.y, (got) => {
      if (got !== undefined) this.ticket = got
      send()
    })
  }

  /**
   * The path trick: a query for a random point of the map from an invented
   * joiner, passed on as a gateway passes on a joiner's (itself the first hop
   * of its path) to its open neighbour nearest the point, as greedy
   * forwarding would. The acceptor's answer comes back through it.
   */
  private forgePassedQuery(): void {
    const x = this.rng.next() * this.view.width
    const y = this.rng.next() * this.view.height
    let to: PeerId | undefined
    let best = Infinity
    for (const n of this.von.table.values()) {
      const d = (n.x - x) ** 2 + (n.y - y) ** 2
      if (d < best && this.links.isOpen(n.id)) [to, best] = [n.id, d]
    }
    if (to === undefined) return
    const query = { qid: FORGED_QID + this.queries++, joiner: this.inventedId(), x, y, aoi: this.view.aoi, path: [this.von.localId] }
    this.links.send(to, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(query), Priority.MEDIUM)
  }

  /** A tracker notes every id it is told of (and which its forged queries' answers named). */
  private read(type: number, payload: unknown): void {
    if (type === VonMsg.NODES) {
      for (const n of decodeNodes(payload) ?? []) this.learned.add(n.id)
      return
    }
    if (type !== VonMsg.ACCEPT) return
    const m = decodeAccept(payload)
    if (m === null) return
    // Its own join's answer names what any joiner there is told; a forged query's, what it asked for.
    const forged = m.joiner !== this.von.localId || m.qid >= FORGED_QID
    for (const n of m.nodes) {
      this.learned.add(n.id)
      if (forged) this.learnedByQuery.add(n.id)
    }
  }
}

const RING_AOI_FRACTION = 0.4
const LIE_EVERY_MS = 500
const LIE_TARGETS = 8
const PLANTED_PER_MESSAGE = 8
const MAX_INVENTED = 64
const QUERY_EVERY_MS = 1000
const FORGED_QID = 1_000_000
const TELEPORT_EVERY_MS = 2000
const OFF_MAP = 1e6
const FLOOD_BATCH_MS = 20
const FLOOD_TARGETS = 2
/** Twice the default HIGH frame budget of a link (300 frames/s). */
const FLOOD_FRAMES_PER_SEC = 600
/** A flooder writes no more than its uplink carries: this much queued at most per connection. */
const FLOOD_BUFFER_BYTES = 16 * 1024
/** A VON message type nobody handles. */
const UNKNOWN_TYPE = 99
