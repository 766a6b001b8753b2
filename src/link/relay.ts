import { isBytes, isUint, isUint8 } from '../core/codec.js'
import type { Log } from '../core/env.js'
import { idToBytes, peerIdFromBytes, type PeerId } from '../core/id.js'
import { CircuitAuth, type CircuitKeys } from './circuit-auth.js'
import { LinkMsg } from './link-messages.js'
import { Priority } from './priority.js'
import { CircuitConnection, type CircuitCarrier } from './circuit-connection.js'
import type { ConnectionEvents } from './transport.js'

export { CircuitConnection }

/**
 * Relaying through peers (seed 000, section II-A): a link that no hole punch
 * can open travels as a circuit through a third peer linked to both ends.
 *
 * - A peer that may need relaying (a symmetric NAT, an unknown one without
 *   TURN, or after a failed direct attempt) reserves at one or two **home
 *   relays** (RESERVE) and names them in the signaling of every link it dials
 *   or answers. Candidates come from linked peers that volunteered in their
 *   signaling (with capacity and load) and from the {@link RelayDirectory}
 *   (the DHT's provider records in a real peer): nearest (lowest RTT) and
 *   least loaded first.
 * - To reach such a peer, the other end opens a circuit through one of its
 *   home relays (C_OPEN). The relay forwards only to peers holding a
 *   reservation, within its caps (circuits, circuits per peer, bytes/s), and
 *   passes each frame on in the class its sender gave, so HIGH frames are not
 *   queued behind LOW ones. It tears circuits down when either end's link goes.
 * - The ends authenticate each other through the circuit (circuit-auth.ts):
 *   a relay that alters a frame gets the link closed as 'relay-tampered'.
 *
 * Frames (link protocol 0): RESERVE [want], RESERVED [ok, circuits, max],
 * C_OPEN [cid, target, hello] end to relay, C_INCOMING [cid, source, hello]
 * relay to end, C_UP [leg, cid, class, bytes] end to relay, C_DOWN [leg, cid,
 * bytes] relay to end, C_END_UP / C_END_DOWN [leg, cid, reason]. A circuit
 * has two legs: leg 0 joins the opener to the relay (cid chosen by the
 * opener), leg 1 the relay to the other end (cid chosen by the relay).
 */

export interface RelayInit {
  /** Relay for others when this peer's NAT allows (not symmetric). @default true */
  volunteer?: boolean
  /** Circuits relayed at once. @default 256 */
  maxCircuits?: number
  /** Of which opened by one peer (a peer reached through us has as many as its links need, within maxCircuits). @default 16 */
  maxCircuitsPerPeer?: number
  /** Bytes per second relayed, both directions together; past it frames are dropped, LOW first. @default 131072 */
  maxBytesPerSec?: number
  /** Peers holding a reservation at once. @default 64 */
  maxReservations?: number
  /** Home relays kept when relaying may be needed (one when only unknown). @default 2 */
  homeRelays?: number
  /** A direct attempt not open after this long gets a circuit alongside. @default 2500 */
  relayAfterMs?: number
  /** A relayed link retries a direct path this often (doubling, to 16x); never when hopeless. @default 30000 */
  upgradeRetryMs?: number
}

export type ResolvedRelayInit = Required<RelayInit>

/**
 * A browser tab relays a little: 256 circuits, 16 opened by one peer, 128 KiB/s (a VON neighbour's
 * moves are a few hundred bytes/s each way, so the byte cap is what bounds the tab's cost; a circuit
 * costs a few hundred bytes of state). The circuit cap also sets when a relay stops taking new peers
 * (three quarters full) and how loaded it looks to peers choosing one: at 128, after 30 % of the
 * relays failed the world took longer to find its neighbours again (docs/results/relays.md, 2026-12-06).
 */
export const BROWSER_RELAY: RelayInit = { maxCircuits: 256, maxCircuitsPerPeer: 16, maxBytesPerSec: 128 * 1024 }

/**
 * An anchor is a server: it relays by default with room for many (512
 * circuits, 4 MiB/s, 1024 reservations; its link cap still bounds how many
 * peers it serves) and keeps no home relay of its own (it has a public address).
 */
export const ANCHOR_RELAY: RelayInit = { maxCircuits: 512, maxCircuitsPerPeer: 32, maxBytesPerSec: 4 * 1024 * 1024, maxReservations: 1024, homeRelays: 0 }

export function resolveRelayInit(init: RelayInit = {}): ResolvedRelayInit {
  return {
    volunteer: init.volunteer ?? true,
    maxCircuits: init.maxCircuits ?? 256,
    maxCircuitsPerPeer: init.maxCircuitsPerPeer ?? 16,
    maxBytesPerSec: init.maxBytesPerSec ?? 128 * 1024,
    maxReservations: init.maxReservations ?? 64,
    homeRelays: init.homeRelays ?? 2,
    relayAfterMs: init.relayAfterMs ?? 2500,
    upgradeRetryMs: init.upgradeRetryMs ?? 30_000,
  }
}

/** Where a peer finds relays it is not linked to: provider records in the DHT, in a real peer. */
export interface RelayDirectory {
  /** Calls back once with candidate relays (maybe none). */
  find(cb: (relays: readonly PeerId[]) => void): void
  /** This peer relays: say so (called every minute while it volunteers). */
  announce?(): void
}

/** What the relay layer needs from the link manager. */
/**
 * Home relays, best first: the least loaded (in quarters), then one whose link a
 * protocol above holds anyway (an overlay neighbour: no link kept for the relay
 * alone, and none kept open past its use), then the nearest.
 */
function byRank(x: Ranked, y: Ranked): number {
  return quarter(x) - quarter(y) || band(x) - band(y) || Number(y.held) - Number(x.held) || x.rttMs - y.rttMs || (x.id < y.id ? -1 : 1)
}

interface Ranked {
  id: PeerId
  load: number
  rttMs: number
  held: boolean
}

/** RTT in 40 ms bands: a relay much farther away costs every relayed frame the difference, a held link saves only its keepalives. */
function band(r: { rttMs: number }): number {
  return Number.isFinite(r.rttMs) ? Math.floor(r.rttMs / 40) : 1e9
}

function quarter(r: { load: number }): number {
  return Math.round(r.load * 4)
}

export interface RelayHost {
  readonly log: Log
  now(): number
  /** Queues a link-protocol frame on the link to `peer` (open or connecting); false without one. */
  sendLink(peer: PeerId, type: number, payload: unknown, priority: Priority): boolean
  /** Bytes waiting in the queues of the link to `peer`. */
  queuedTo(peer: PeerId): number
  isOpen(peer: PeerId): boolean
  /** Dials `peer` (through the bootstrap node, or `via` a linked peer). */
  connect(peer: PeerId, via?: readonly PeerId[]): void
  /** A circuit from another peer arrived: the link manager takes it (true) or refuses it. */
  acceptCircuit(conn: CircuitConnection): boolean
  /**
   * Linked peers that volunteered as relays, with their round-trip time, load (0..1)
   * and whether a protocol above holds the link anyway (a home relay there costs no link of its own).
   */
  volunteers(): { id: PeerId; rttMs: number; load: number; held: boolean }[]
  /** Whether a protocol above holds the link to `peer` anyway. */
  held(peer: PeerId): boolean
  /** A home relay accepted us: links still trying can be told. */
  homesChanged(): void
  /** Round-trip time to a linked peer (an estimate from the link's setup before the first probe). */
  rttMs(peer: PeerId): number
}

export interface RelayStats {
  /** As a relay: circuits set up, refused (caps, no reservation), and now. */
  circuitsServed: number
  circuitsRefused: number
  circuitsNow: number
  circuitsMax: number
  reservationsNow: number
  /** As a relay: bytes and frames passed on, frames dropped over the byte cap. */
  relayedBytes: number
  relayedFrames: number
  droppedFrames: number
  /** Most bytes relayed in one second (a sliding 1 s window, checked at each frame). */
  peakBytesPerSec: number
  /** As an end: circuits opened, and closed for a frame that failed authentication. */
  circuitsOpened: number
  tampered: number
}

/** Caps a volunteer tells the peers it links to: [maxCircuits, circuits now]. */
export type VolunteerInfo = readonly [number, number]

const CLOSE_REASON_MAX = 40
/** A relay that refused us, or that we asked, is not asked again for this long... */
const RETRY_MS = 30_000
/** ...or this long while we have no home relay at all (the directory is asked every 5 s either way: a world with no volunteer must not cost a lookup a second). */
const HOMELESS_RETRY_MS = 5000

interface Served {
  /** Opener (leg 0) and target (leg 1), with each leg's cid. */
  readonly a: PeerId
  readonly aCid: number
  readonly b: PeerId
  readonly bCid: number
}

/** The relay layer of one peer: relay role, home relays, and the circuits it ends. */
export class RelayLayer implements CircuitCarrier {
  readonly stats: RelayStats = {
    circuitsServed: 0,
    circuitsRefused: 0,
    circuitsNow: 0,
    circuitsMax: 0,
    reservationsNow: 0,
    relayedBytes: 0,
    relayedFrames: 0,
    droppedFrames: 0,
    peakBytesPerSec: 0,
    circuitsOpened: 0,
    tampered: 0,
  }
  /** Whether this peer relays for others now (volunteer and not symmetric). */
  relaying = false
  /** Home relays wanted (0: none needed). */
  homesWanted = 0
  private readonly served = new Map<string, Served>()
  private readonly reservations = new Map<PeerId, number>()
  private readonly ends = new Map<string, CircuitConnection>()
  /** How many of `ends` go through each relay (kept with it: a drain asks at every buffer drain). */
  private readonly endsVia = new Map<PeerId, number>()
  /** Circuits waiting for their relay's link to open. */
  private readonly waiting = new Map<PeerId, CircuitConnection[]>()
  private readonly homes = new Map<PeerId, { state: 'pending' | 'reserved'; since: number; load: number; rttMs: number }>()
  /** When we last asked each relay for a reservation. */
  private readonly asked = new Map<PeerId, number>()
  /** When a relay refused us, did not answer or its link closed. */
  private readonly refused = new Map<PeerId, number>()
  /** When the link to a peer went silent or failed (not closed as idle). */
  private readonly lost = new Map<PeerId, number>()
  private found: PeerId[] = []
  private findAt = -Infinity
  private finding = false
  private announcedAt = -Infinity
  private nextCid = 1
  private readonly recent: { at: number; bytes: number }[] = []
  private windowBytes = 0

  constructor(
    private readonly host: RelayHost,
    private readonly keys: CircuitKeys,
    readonly init: ResolvedRelayInit,
    private directory: RelayDirectory | undefined,
  ) {
  }

  /** Where relays are found beyond linked volunteers (set once the DHT exists). */
  setDirectory(directory: RelayDirectory): void {
    this.directory = directory
  }

  /** Home relays that accepted our reservation. */
  homeRelays(): PeerId[] {
    const out: PeerId[] = []
    for (const [id, h] of this.homes) if (h.state === 'reserved') out.push(id)
    return out
  }

  /** What we tell peers we link to when we relay: [maxCircuits, circuits now]. */
  volunteerInfo(): VolunteerInfo | undefined {
    return this.relaying ? [this.init.maxCircuits, this.stats.circuitsNow] : undefined
  }

  /** Whether a circuit of ours goes through `peer`. */
  carriesVia(peer: PeerId): boolean {
    return this.endsVia.has(peer)
  }

  private addEnd(key: string, conn: CircuitConnection): void {
    this.ends.set(key, conn)
    this.endsVia.set(conn.relay, (this.endsVia.get(conn.relay) ?? 0) + 1)
  }

  private removeEnd(key: string): void {
    const conn = this.ends.get(key)
    if (conn === undefined) return
    this.ends.delete(key)
    const n = (this.endsVia.get(conn.relay) ?? 1) - 1
    if (n > 0) this.endsVia.set(conn.relay, n)
    else this.endsVia.delete(conn.relay)
  }

  /** Opens a circuit to `target` through `relay` (dialling the relay first when not linked). */
  open(target: PeerId, relay: PeerId, events: ConnectionEvents, via?: readonly PeerId[]): CircuitConnection {
    const cid = this.nextCid++
    const conn = new CircuitConnection(this, new CircuitAuth(this.keys, target, true), relay, 0, cid, events)
    this.addEnd(legKey(relay, 0, cid), conn)
    if (this.host.isOpen(relay)) this.sendOpen(conn)
    else {
      const list = this.waiting.get(relay) ?? []
      list.push(conn)
      this.waiting.set(relay, list)
      this.host.connect(relay, via)
    }
    return conn
  }

  private sendOpen(conn: CircuitConnection): void {
    this.host.sendLink(conn.relay, LinkMsg.C_OPEN, [conn.cid, idToBytes(conn.remote), conn.auth.hello()], Priority.HIGH)
  }

  /** Whether the link to `peer` went silent or failed in the last 30 s: a relay there is likely gone. */
  lostRecently(peer: PeerId): boolean {
    return this.since(this.lost, peer, this.host.now()) < 30_000
  }

  /** Whether the link to `peer` carries something of ours: keep it. */
  insists(peer: PeerId): boolean {
    if (this.homes.has(peer) || this.reservations.has(peer) || this.waiting.has(peer)) return true
    if (this.endsVia.has(peer)) return true
    for (const s of this.served.values()) if (s.a === peer || s.b === peer) return true
    return false
  }

  onLinkOpen(peer: PeerId): void {
    const list = this.waiting.get(peer)
    if (list !== undefined) {
      this.waiting.delete(peer)
      for (const conn of list) if (conn.state === 'handshake') this.sendOpen(conn)
    }
    if (this.homes.get(peer)?.state === 'pending') this.host.sendLink(peer, LinkMsg.RESERVE, 1, Priority.MEDIUM)
  }

  /**
   * A link closed. One that went silent (or failed) rather than closing as idle
   * means a relay there is likely gone: circuits go through others for 30 s.
   */
  onLinkClosed(peer: PeerId, reason: string): void {
    if (reason === 'timeout' || reason === 'remote-closed' || reason.startsWith('webrtc:')) this.lost.set(peer, this.host.now())
    const list = this.waiting.get(peer)
    this.waiting.delete(peer)
    for (const conn of list ?? []) conn.remoteClosed('relay-unreachable')
    if (this.homes.delete(peer)) this.refused.set(peer, this.host.now())
    if (this.reservations.delete(peer)) this.stats.reservationsNow = this.reservations.size
    for (const [key, conn] of [...this.ends]) {
      if (conn.relay !== peer) continue
      this.removeEnd(key)
      conn.remoteClosed('relay-lost')
    }
    const gone = new Set<Served>()
    for (const s of this.served.values()) if (s.a === peer || s.b === peer) gone.add(s)
    for (const s of gone) this.endServed(s, 'peer-gone', peer)
  }

  /** Handles a relay frame from `from`; false when malformed. */
  onFrame(from: PeerId, type: number, payload: unknown): boolean {
    switch (type) {
      case LinkMsg.RESERVE:
        return this.onReserve(from, payload)
      case LinkMsg.RESERVED:
        return this.onReserved(from, payload)
      case LinkMsg.C_OPEN:
        return this.onOpen(from, payload)
      case LinkMsg.C_INCOMING:
        return this.onIncoming(from, payload)
      case LinkMsg.C_UP:
        return this.onUp(from, payload)
      case LinkMsg.C_DOWN:
        return this.onDown(from, payload)
      case LinkMsg.C_END_UP:
        return this.onEndUp(from, payload)
      case LinkMsg.C_END_DOWN:
        return this.onEndDown(from, payload)
      default:
        return false
    }
  }

  /** Keeps home relays and the relay announcement going; the link manager calls it every second or so. */
  tick(now: number): void {
    if (this.relaying && this.directory?.announce !== undefined && now - this.announcedAt >= 60_000) {
      this.announcedAt = now
      this.directory.announce()
    }
    for (const [id, h] of [...this.homes]) {
      if (h.state === 'pending' && now - h.since > 10_000) {
        this.homes.delete(id)
        this.refused.set(id, now)
      }
    }
    const reserved = this.releaseExtra()
    if (this.asked.size + this.refused.size + this.lost.size > 256) {
      for (const m of [this.asked, this.refused, this.lost]) for (const [id, at] of [...m]) if (now - at >= 30_000) m.delete(id)
    }
    if (this.homesWanted === 0) {
      for (const id of [...this.homes.keys()]) this.release(id)
      return
    }
    // With no home relay at all nobody can reach us through one: ask again sooner.
    const holdOff = reserved.length === 0 ? HOMELESS_RETRY_MS : RETRY_MS
    const linked = this.linkedCandidates(now, holdOff)
    const pending = this.homes.size - reserved.length
    // Short of home relays: one candidate more than needed, and of those that accept the
    // best stay (releaseExtra). With enough: one more only when a linked volunteer beats
    // the worst home relay (lighter, or as light and held by the overlay while it is not).
    const worst = reserved[reserved.length - 1]
    const better = linked[0] !== undefined && worst !== undefined && (quarter(linked[0]) < quarter(worst) || (quarter(linked[0]) === quarter(worst) && linked[0].held && !worst.held))
    let missing = reserved.length < this.homesWanted ? this.homesWanted + 1 - this.homes.size : pending === 0 && better ? 1 : 0
    if (missing <= 0) return
    const fresh = (id: PeerId): boolean => !this.homes.has(id) && this.since(this.asked, id, now) >= holdOff && this.since(this.refused, id, now) >= holdOff
    for (const id of [...linked.map((c) => c.id), ...this.found.filter(fresh)]) {
      if (missing <= 0) break
      if (this.homes.has(id)) continue
      this.homes.set(id, { state: 'pending', since: now, load: 1, rttMs: Infinity })
      this.asked.set(id, now)
      missing--
      if (this.host.isOpen(id)) this.host.sendLink(id, LinkMsg.RESERVE, 1, Priority.MEDIUM)
      else this.host.connect(id)
    }
    if (missing > 0 && this.homeRelays().length < this.homesWanted && this.directory !== undefined && !this.finding && now - this.findAt >= 5000) {
      this.finding = true
      this.findAt = now
      this.directory.find((relays) => {
        this.finding = false
        this.found = relays.filter((r) => r !== this.keys.localId).slice(0, 32)
      })
    }
  }

  /** The home relays that accepted us, best first (byRank). */
  private ranked(): Ranked[] {
    return [...this.homes]
      .filter(([, h]) => h.state === 'reserved')
      .map(([id, h]) => ({ id, load: h.load, rttMs: h.rttMs, held: this.host.held(id) }))
      .sort(byRank)
  }

  /** Keeps the `homesWanted` best home relays that accepted us, releasing the rest; the kept ones, best first. */
  private releaseExtra(): Ranked[] {
    const ranked = this.ranked()
    for (const { id } of ranked.slice(this.homesWanted)) this.release(id)
    return ranked.slice(0, this.homesWanted)
  }

  private release(id: PeerId): void {
    const h = this.homes.get(id)
    this.homes.delete(id)
    if (h?.state === 'reserved') this.host.sendLink(id, LinkMsg.RESERVE, 0, Priority.MEDIUM)
  }

  private since(m: Map<PeerId, number>, id: PeerId, now: number): number {
    return now - (m.get(id) ?? -Infinity)
  }

  /**
   * Linked volunteers to ask, best first (byRank): none refused us in the last
   * `holdOff` (30 s; 5 s while we have no home relay), none asked in it, except
   * that while a home relay's link is ours alone, one the overlay holds is asked
   * again after 5 s (one that looked held when we chose may have stopped being a
   * neighbour since).
   */
  private linkedCandidates(now: number, holdOff: number): Ranked[] {
    let swap = -1 // the load quarter of the worst home relay whose link is ours alone
    for (const [id, h] of this.homes) if (h.state === 'reserved' && !this.host.held(id)) swap = Math.max(swap, quarter(h))
    return this.host
      .volunteers()
      .filter((v) => {
        if (v.load >= 1 || this.homes.has(v.id) || this.since(this.refused, v.id, now) < holdOff) return false
        const asked = this.since(this.asked, v.id, now)
        return asked >= holdOff || (v.held && quarter(v) <= swap && asked >= 5000)
      })
      .sort(byRank)
  }

  // --- relay role ---

  private onReserve(from: PeerId, payload: unknown): boolean {
    if (payload !== 0 && payload !== 1) return false
    if (payload === 0) {
      this.reservations.delete(from)
    } else if (this.relaying && (this.reservations.has(from) || (this.reservations.size < this.init.maxReservations && this.stats.circuitsNow < this.init.maxCircuits * 0.75))) {
      // A relay three quarters full takes no new peer: its circuits are for those it has.
      this.reservations.set(from, this.host.now())
      this.host.sendLink(from, LinkMsg.RESERVED, [1, this.stats.circuitsNow, this.init.maxCircuits], Priority.MEDIUM)
    } else {
      this.host.sendLink(from, LinkMsg.RESERVED, [0, this.stats.circuitsNow, this.init.maxCircuits], Priority.MEDIUM)
    }
    this.stats.reservationsNow = this.reservations.size
    return true
  }

  private onOpen(from: PeerId, payload: unknown): boolean {
    if (!Array.isArray(payload) || payload.length !== 3) return false
    const [cid, targetBytes, hello] = payload as unknown[]
    if (!isUint(cid, 0xffffffff) || !isBytes(targetBytes, 32) || !isBytes(hello, 256)) return false
    const target = peerIdFromBytes(targetBytes)
    if (target === null || target === from || this.served.has(legKey(from, 0, cid))) return false
    const refuse = (reason: string): true => {
      this.stats.circuitsRefused++
      this.host.sendLink(from, LinkMsg.C_END_DOWN, [0, cid, reason], Priority.HIGH)
      return true
    }
    if (!this.relaying) return refuse('not-a-relay')
    // Either end holds a reservation here (the target's: it named us; the opener's: its own home relay), and the target is linked.
    if (!this.reservations.has(target) && !this.reservations.has(from)) return refuse('no-reservation')
    if (!this.host.isOpen(target)) return refuse(this.reservations.has(target) ? 'no-reservation' : 'no-route')
    if (this.stats.circuitsNow >= this.init.maxCircuits) return refuse('relay-full')
    let opened = 0
    // Each circuit sits in the map twice (one key per leg): count the opener's legs.
    for (const [key, s] of this.served) if (s.a === from && key === legKey(from, 0, s.aCid)) opened++
    if (opened >= this.init.maxCircuitsPerPeer) return refuse('relay-full')
    const s: Served = { a: from, aCid: cid, b: target, bCid: this.nextCid++ }
    this.served.set(legKey(from, 0, cid), s)
    this.served.set(legKey(target, 1, s.bCid), s)
    this.stats.circuitsServed++
    this.stats.circuitsNow++
    if (this.stats.circuitsNow > this.stats.circuitsMax) this.stats.circuitsMax = this.stats.circuitsNow
    this.host.sendLink(target, LinkMsg.C_INCOMING, [s.bCid, idToBytes(from), hello], Priority.HIGH)
    return true
  }

  private onUp(from: PeerId, payload: unknown): boolean {
    if (!Array.isArray(payload) || payload.length !== 4) return false
    const [leg, cid, cls, bytes] = payload as unknown[]
    if ((leg !== 0 && leg !== 1) || !isUint(cid, 0xffffffff) || !isUint8(cls) || cls > Priority.LOW || !isBytes(bytes)) return false
    const s = this.served.get(legKey(from, leg, cid))
    if (s === undefined) return true // torn down while in flight
    const [to, toLeg, toCid] = leg === 0 ? [s.b, 1, s.bCid] : [s.a, 0, s.aCid]
    if (!this.admit(bytes.length, cls as Priority)) {
      this.stats.droppedFrames++
      return true
    }
    this.stats.relayedBytes += bytes.length
    this.stats.relayedFrames++
    this.host.sendLink(to, LinkMsg.C_DOWN, [toLeg, toCid, bytes], cls as Priority)
    return true
  }

  private onEndUp(from: PeerId, payload: unknown): boolean {
    const parsed = parseEnd(payload)
    if (parsed === null) return false
    const key = legKey(from, parsed.leg, parsed.cid)
    const s = this.served.get(key)
    if (s === undefined) return true
    this.endServed(s, parsed.reason, from)
    return true
  }

  /** Forgets a relayed circuit and tells the end that is not `gone`. */
  private endServed(s: Served, reason: string, gone: PeerId): void {
    const had = this.served.delete(legKey(s.a, 0, s.aCid))
    const hadB = this.served.delete(legKey(s.b, 1, s.bCid))
    if (had || hadB) this.stats.circuitsNow = Math.max(0, this.stats.circuitsNow - 1)
    if (s.a !== gone) this.host.sendLink(s.a, LinkMsg.C_END_DOWN, [0, s.aCid, reason], Priority.HIGH)
    if (s.b !== gone) this.host.sendLink(s.b, LinkMsg.C_END_DOWN, [1, s.bCid, reason], Priority.HIGH)
  }

  /**
   * The byte cap over any one second (a sliding window of what passed): a
   * frame passes when the last second's bytes plus it stay under the cap less
   * a reserve by class (none for HIGH, a sixteenth for MEDIUM, a quarter for
   * LOW), so bulk is dropped first and moves last.
   */
  private admit(size: number, cls: Priority): boolean {
    const now = this.host.now()
    const cap = this.init.maxBytesPerSec
    const recent = this.recent
    while (recent.length > 0 && recent[0]!.at <= now - 1000) this.windowBytes -= recent.shift()!.bytes
    const reserve = cls === Priority.HIGH ? 0 : cls === Priority.MEDIUM ? cap / 16 : cap / 4
    if (this.windowBytes + size > cap - reserve) return false
    recent.push({ at: now, bytes: size })
    this.windowBytes += size
    if (this.windowBytes > this.stats.peakBytesPerSec) this.stats.peakBytesPerSec = this.windowBytes
    return true
  }

  // --- end role ---

  private onReserved(from: PeerId, payload: unknown): boolean {
    if (!Array.isArray(payload) || payload.length !== 3) return false
    const [ok, circuits, max] = payload as unknown[]
    if ((ok !== 0 && ok !== 1) || !isUint(circuits) || !isUint(max)) return false
    const h = this.homes.get(from)
    if (h === undefined) {
      // Not asked (or given up): release it so the relay does not hold it.
      if (ok === 1) this.host.sendLink(from, LinkMsg.RESERVE, 0, Priority.MEDIUM)
      return true
    }
    if (ok === 1) {
      h.state = 'reserved'
      h.load = max === 0 ? 1 : circuits / max
      h.rttMs = this.host.rttMs(from)
      this.host.log.debug('home relay', { relay: from, circuits, max })
      this.releaseExtra()
      if (this.homes.get(from)?.state === 'reserved') this.host.homesChanged()
    } else {
      this.homes.delete(from)
      this.refused.set(from, this.host.now())
    }
    return true
  }

  private onIncoming(from: PeerId, payload: unknown): boolean {
    if (!Array.isArray(payload) || payload.length !== 3) return false
    const [cid, sourceBytes, hello] = payload as unknown[]
    if (!isUint(cid, 0xffffffff) || !isBytes(sourceBytes, 32) || !isBytes(hello, 256)) return false
    const source = peerIdFromBytes(sourceBytes)
    if (source === null || source === this.keys.localId || this.ends.has(legKey(from, 1, cid))) return false
    const refuse = (reason: string): true => {
      this.host.sendLink(from, LinkMsg.C_END_UP, [1, cid, reason], Priority.HIGH)
      return true
    }
    // From one of our home relays, or from a volunteer the opener holds a reservation with (it checked):
    // the circuit proves both ends either way (circuit-auth.ts), so the relay cannot pose as the source.
    if (this.homes.get(from)?.state !== 'reserved' && !this.host.volunteers().some((v) => v.id === from)) return refuse('no-reservation')
    const auth = new CircuitAuth(this.keys, source, false)
    if (!auth.onHello(hello)) {
      this.stats.tampered++
      this.host.log.warn('circuit: a HELLO that does not authenticate its sender', { relay: from, source })
      return refuse('bad-hello')
    }
    const conn = new CircuitConnection(this, auth, from, 1, cid, undefined)
    this.addEnd(legKey(from, 1, cid), conn)
    if (!this.host.acceptCircuit(conn)) {
      this.removeEnd(legKey(from, 1, cid))
      return refuse('refused')
    }
    conn.sendRaw(auth.hello())
    return true
  }

  private onDown(from: PeerId, payload: unknown): boolean {
    if (!Array.isArray(payload) || payload.length !== 3) return false
    const [leg, cid, bytes] = payload as unknown[]
    if ((leg !== 0 && leg !== 1) || !isUint(cid, 0xffffffff) || !isBytes(bytes)) return false
    this.ends.get(legKey(from, leg, cid))?.receive(bytes)
    return true
  }

  private onEndDown(from: PeerId, payload: unknown): boolean {
    const parsed = parseEnd(payload)
    if (parsed === null) return false
    const key = legKey(from, parsed.leg, parsed.cid)
    const conn = this.ends.get(key)
    if (conn === undefined) return true
    this.removeEnd(key)
    conn.remoteClosed(`circuit-${parsed.reason}`)
    return true
  }

  // --- for CircuitConnection ---

  /** @internal */
  carry(conn: CircuitConnection, bytes: Uint8Array, cls: Priority): void {
    this.host.sendLink(conn.relay, LinkMsg.C_UP, [conn.leg, conn.cid, cls, bytes], cls)
  }

  /** @internal */
  queuedTo(relay: PeerId): number {
    return this.host.queuedTo(relay)
  }

  /** @internal */
  closed(conn: CircuitConnection, reason: string, tellRelay: boolean): void {
    const key = legKey(conn.relay, conn.leg, conn.cid)
    if (this.ends.get(key) === conn) this.removeEnd(key)
    const list = this.waiting.get(conn.relay)
    if (list !== undefined) {
      const rest = list.filter((c) => c !== conn)
      if (rest.length === 0) this.waiting.delete(conn.relay)
      else this.waiting.set(conn.relay, rest)
    }
    if (tellRelay) this.host.sendLink(conn.relay, LinkMsg.C_END_UP, [conn.leg, conn.cid, reason.slice(0, CLOSE_REASON_MAX)], Priority.HIGH)
  }

  /** @internal */
  tamperedWith(conn: CircuitConnection): void {
    this.stats.tampered++
    this.host.log.warn('circuit: a frame failed authentication; the relay altered it', { relay: conn.relay, remote: conn.remote })
  }

  /** @internal */
  opened(): void {
    this.stats.circuitsOpened++
  }

  /** @internal */
  now(): number {
    return this.host.now()
  }
}

/** A circuit leg by the peer at its other end, the leg and its cid (as an end: the relay; as a relay: the end). */
function legKey(peer: PeerId, leg: number, cid: number): string {
  return `${peer}/${leg}/${cid}`
}

function parseEnd(payload: unknown): { leg: 0 | 1; cid: number; reason: string } | null {
  if (!Array.isArray(payload) || payload.length !== 3) return null
  const [leg, cid, reason] = payload as unknown[]
  if ((leg !== 0 && leg !== 1) || !isUint(cid, 0xffffffff) || typeof reason !== 'string' || reason.length > CLOSE_REASON_MAX) return null
  return { leg, cid, reason: reason.replace(/[^a-z0-9-]/g, '') }
}
