import { encodeFrame, isUint } from '../core/codec.js'
import type { Crypto, Env, KeyPair, Log } from '../core/env.js'
import { parsePeerId, type PeerId } from '../core/id.js'
import type { Link } from './link.js'
import { MAX_ROUTE_HOPS } from './signal-relay.js'
import { LINK_PROTO } from './link-messages.js'
import type { LinkManagerStats, ResolvedLinkInit } from './link-types.js'
import { directHopeless, encodeReach, parseReach, UNKNOWN_REACH, type Reach } from './nat.js'
import { PRIORITIES } from './priority.js'
import { CircuitConnection, RelayLayer, resolveRelayInit, type RelayDirectory, type RelayHost, type RelayInit, type VolunteerInfo } from './relay.js'
import type { Connection, ConnectionEvents, SignalData, Transport } from './transport.js'

/** Keys of what a link's first signal of an attempt says besides its number (see docs/PROTOCOL.md): reach, home relays, relay capacity, upgrade. */
const REACH_KEY = '_n'
const RELAYS_KEY = '_r'
const VOLUNTEER_KEY = '_v'
export const UPGRADE_KEY = '_u'
/** A signal that only says reach and relays (sent when home relays arrive after the first signal); never passed to the transport. */
const META_KEY = '_m'
/** Home relays read from one signal at most. */
const MAX_REMOTE_RELAYS = 4
/** How much longer a link carried by a circuit may stay silent: its relay's loss is detected first, then another circuit opens. */
export const RELAYED_DEAD_EXTRA_MS = 6000
/** Why a circuit may close while both ends still want the link: the link reroutes (other ends of a circuit close the link). */
const REROUTE_REASONS = new Set(['relay-lost', 'relay-unreachable', 'relay-slow', 'circuit-relay-full', 'circuit-no-reservation', 'circuit-no-route', 'circuit-not-a-relay', 'circuit-upgraded'])
/** A circuit we asked for that has not opened in this long goes to the next relay (the relay may be gone and not yet known to be). */
const CIRCUIT_OPEN_MS = 2500
/** A relay that failed a link's circuit is tried again for it after this long. */
const RELAY_RETRY_MS = 4000
/** An open link whose circuit went and got no other in this long closes. */
const REROUTE_MS = 8000

/** What the path logic needs of the link manager. */
export interface PathsHost {
  readonly localId: PeerId
  readonly log: Log
  readonly transport: Transport
  readonly links: Map<PeerId, Link>
  readonly stats: LinkManagerStats
  readonly init: ResolvedLinkInit
  now(): number
  closed(): boolean
  closeLink(link: Link, reason: string): void
  onOpen(link: Link): void
  openConnection(link: Link, initiator: boolean): Connection
  routeSignal(link: Link, data: SignalData, alt: boolean): void
  /** Room for a new link to `peer`: false at the cap with none to collect, or when `peer` is ignored for misbehaving. */
  makeRoom(peer: PeerId): boolean
  ensureTicking(): void
  nextAttempt(): number
  isOpen(peer: PeerId): boolean
  /** Some protocol above insists on the link to `peer` (an overlay neighbour, say): it stays open anyway. */
  held(peer: PeerId): boolean
  connect(peer: PeerId, opts: { via?: readonly PeerId[] }): void
  /** The callbacks of a connection for `link` (set `conn` once the connection exists). */
  events(link: Link): ConnectionEvents & { conn: Connection | undefined }
  /** A link in state connecting with no connection yet, registered under its remote. */
  newLink(peer: PeerId): Link
}

/**
 * The paths a link may take besides its direct connection (relay.ts): what
 * each end says of its reach and home relays, when a circuit opens and which
 * end opens it, the alternate connection (a circuit while the direct attempt
 * tries, a direct attempt while a circuit carries the link), rerouting when a
 * relay leaves, and upgrading to a direct path. The link manager calls in at
 * each event of a link; the links stay its own.
 */
export class LinkPaths {
  readonly relays: RelayLayer | undefined
  /** What this peer knows of its NAT and ICE servers (the transport's word). */
  reach: Reach = UNKNOWN_REACH
  private relaysTickAt = -Infinity

  constructor(
    private readonly host: PathsHost,
    identity: { keyPair: KeyPair; crypto: Crypto; rng: Pick<Env['rng'], 'bytes'> } | undefined,
    init: RelayInit | undefined,
    directory: RelayDirectory | undefined,
  ) {
    if (identity !== undefined) this.relays = new RelayLayer(this.relayHost(), { ...identity, localId: host.localId }, resolveRelayInit(init), directory)
    this.updateReach()
  }

  /**
   * Signals that concern only the paths: reach alone (META), the alternate
   * attempt's, an upgrade offer for an open link. True when handled here.
   */
  onSignal(link: Link | undefined, initiator: boolean, attempt: number, data: SignalData): boolean {
    if (data[META_KEY] === 1) {
      if (link !== undefined && (link.attempt === attempt || link.altAttempt === attempt)) this.readReach(link, data)
      return true
    }
    if (link === undefined) return false
    if (!initiator) {
      if (!link.altInitiator || link.alt === undefined || link.altAttempt !== attempt) return false
      this.readReach(link, data)
      link.alt.signal(data)
      return true
    }
    if (!link.altInitiator && link.altAttempt === attempt && link.alt !== undefined) {
      link.alt.signal(data)
      return true
    }
    if (link.state !== 'open' || data[UPGRADE_KEY] !== 1) return false
    // The remote tries a direct path (or renews its relays) beside the circuit that carries this link.
    this.readReach(link, data)
    if (link.conn instanceof CircuitConnection || link.conn === undefined) {
      if (link.alt !== undefined && !(link.alt instanceof CircuitConnection)) link.alt.close()
      if (!(link.alt instanceof CircuitConnection)) {
        link.altInitiator = false
        link.altAttempt = attempt
        link.altAt = this.host.now()
        link.alt = this.host.openConnection(link, false)
        link.alt.signal(data)
      }
    }
    if (link.conn === undefined) this.planCircuit(link, true)
    return true
  }

  /** Adds what relaying needs to the first signal of each attempt (see docs/PROTOCOL.md). */
  tag(link: Link, data: SignalData, alt: boolean, initiator: boolean, attempt: number): void {
    if (alt && initiator) data[UPGRADE_KEY] = 1
    const key = `${alt ? 'a' : 'm'}${initiator ? 'i' : 'r'}${attempt}`
    if (link.reachSent.has(key) || this.relays === undefined) return
    link.reachSent.add(key)
    link.localRelays = this.relays.homeRelays()
    data[REACH_KEY] = encodeReach(this.reach)
    if (link.localRelays.length > 0) data[RELAYS_KEY] = [...link.localRelays]
    const v = this.relays.volunteerInfo()
    if (v !== undefined) data[VOLUNTEER_KEY] = [...v]
  }

  /** The link opened: counts a relayed one and plans its first try of a direct path. */
  opened(link: Link, now: number): boolean {
    if (!(link.conn instanceof CircuitConnection)) return false
    this.host.stats.relayedLinks++
    link.upgradeAt = link.alt === undefined ? now + this.relays!.init.upgradeRetryMs : 0
    return true
  }

  /** Home relays and the relay announcement, once a second. */
  tick(now: number): void {
    if (this.relays === undefined || now - this.relaysTickAt < 1000) return
    this.relaysTickAt = now
    this.updateReach()
    this.relays.tick(now)
  }

  /** Gives up on a circuit we asked for that has not opened in time; the link tries the next relay. */
  tickCircuits(link: Link, now: number): void {
    for (const c of [link.conn, link.alt]) {
      if (c instanceof CircuitConnection && c.leg === 0 && c.state === 'handshake' && now - c.startedAt > CIRCUIT_OPEN_MS) c.giveUp('relay-slow')
    }
  }

  /** An open link's paths at a tick: rerouting, upgrades. True when the link closed. */
  tickOpen(link: Link, now: number): boolean {
    const relayed = link.conn === undefined || link.conn instanceof CircuitConnection
    if (relayed && link.lostAt >= 0 && now - link.lostAt > REROUTE_MS) {
      this.host.stats.rerouteLost++
      this.host.closeLink(link, 'relay-lost')
      return true
    }
    if (link.alt !== undefined && !(link.alt instanceof CircuitConnection) && now - link.altAt > this.host.init.connectTimeoutMs) {
      // An upgrade attempt that never opened.
      link.alt.close()
      this.altClosed(link, 'connect-timeout')
    }
    if (link.conn === undefined && link.lostAt >= 0) {
      // Rerouting: try the remote's next relay, or ask it for fresh ones.
      if (link.alt === undefined) this.tryCircuit(link)
      if (link.alt === undefined && link.conn === undefined && link.initiator) this.renegotiate(link)
    }
    if (relayed && link.conn !== undefined && link.alt === undefined && link.initiator && link.upgradeAt > 0 && now >= link.upgradeAt) {
      const hopeless = link.remoteReach !== undefined && directHopeless(this.reach, link.remoteReach)
      if (hopeless) link.upgradeAt = 0
      else this.renegotiate(link)
    }
    return false
  }

  /** Re-reads the transport's reach and sets what this peer relays and how many home relays it keeps. */
  private updateReach(): void {
    this.reach = this.host.transport.reach?.() ?? UNKNOWN_REACH
    const relays = this.relays
    if (relays === undefined) return
    // A relay must be reachable by the peers that need one (symmetric NATs): a public or full-cone
    // address, or one not measured (a browser tries; peers that cannot reach it pick another).
    relays.relaying = relays.init.volunteer && (this.reach.nat === 'open' || this.reach.nat === 'eim' || this.reach.nat === 'unknown')
    const wanted = this.reach.turn || this.reach.nat === 'open' || this.reach.nat === 'eim' || this.reach.nat === 'restricted' ? 0 : this.reach.nat === 'symmetric' ? relays.init.homeRelays : 1
    relays.homesWanted = Math.min(relays.init.homeRelays, Math.max(wanted, this.learntHomes))
  }

  private learntHomes = 0

  /** A direct attempt failed in a way relaying would fix: keep a home relay from now on. */
  learnFrom(code: string): void {
    // Only a peer that does not know its NAT learns from failures; a known class already says what it needs.
    if (this.relays === undefined || this.reach.turn || this.reach.nat !== 'unknown' || (code !== 'ice-failed' && code !== 'connect-timeout')) return
    this.learntHomes = Math.max(this.learntHomes, Math.min(1, this.relays.init.homeRelays))
    this.updateReach()
  }

  /** Reads the remote's reach, home relays and relay capacity from its signal (untrusted: bounded, validated). */
  readReach(link: Link, data: SignalData): void {
    if (this.relays === undefined) return
    const reach = parseReach(data[REACH_KEY])
    if (reach === null) return // an attempt says it once, in its first signal
    link.remoteReach = reach
    const relays = data[RELAYS_KEY]
    const list: PeerId[] = []
    if (Array.isArray(relays)) {
      for (const r of relays.slice(0, MAX_REMOTE_RELAYS)) {
        const id = parsePeerId(r)
        if (id !== null && id !== this.host.localId && id !== link.remote && !list.includes(id)) list.push(id)
      }
    }
    link.remoteRelays = list
    const v = data[VOLUNTEER_KEY]
    link.remoteVolunteer = Array.isArray(v) && v.length === 2 && isUint(v[0], 1e6) && isUint(v[1], 1e6) ? (v as unknown as VolunteerInfo) : undefined
    this.planCircuit(link, false)
  }

  /**
   * Plans a circuit for a link still connecting (or open without one): now
   * when the two ends' reach says no direct path can work, else if the
   * direct attempt is not open after relayAfterMs.
   */
  private planCircuit(link: Link, now: boolean): void {
    const relays = this.relays
    if (relays === undefined || link.remoteReach === undefined) return
    if (link.state === 'open' && link.conn !== undefined) return
    const hopeless = directHopeless(this.reach, link.remoteReach)
    const at = now || hopeless || link.state === 'open' ? this.host.now() : link.attemptAt + relays.init.relayAfterMs
    link.circuitAt = link.circuitAt > 0 ? Math.min(link.circuitAt, at) : at
    if (link.circuitAt <= this.host.now()) this.tryCircuit(link)
  }

  /**
   * Opens a circuit for `link` through the next of the remote's home relays,
   * when this end is the one to open it: the one dialling a peer that named
   * home relays, or the other end when only the dialler named some.
   */
  tryCircuit(link: Link): void {
    link.circuitAt = 0
    if (this.relays === undefined || link.alt instanceof CircuitConnection || link.conn instanceof CircuitConnection) return
    if (link.state === 'open' && link.conn !== undefined) return // a direct path carries it
    // Rerouting an open link, either end opens through the other's relays (both at once: the
    // smaller id's circuit stays, see acceptCircuit): one end's relays all gone is no dead end.
    const rerouting = link.state === 'open'
    const now = this.host.now()
    const fresh = (r: PeerId): boolean => now - (link.relaysTried.get(r) ?? -Infinity) > RELAY_RETRY_MS
    const tried = link.remoteRelays.filter(fresh)
    // Not through a relay whose link to us just went silent, while there is another.
    const alive = tried.filter((r) => !this.relays!.lostRecently(r))
    const theirs = alive.length > 0 ? alive : tried
    // Rerouting, our own home relays come next: one linked to the remote carries the circuit
    // at once (either end's reservation will do), one that is not says so in a round trip.
    const mine = rerouting ? this.relays.homeRelays().filter((r) => fresh(r) && r !== link.remote && !theirs.includes(r)) : []
    const iOpen = (link.remoteRelays.length > 0 && (rerouting || link.initiator || link.localRelays.length === 0)) || mine.length > 0
    if (!iOpen) return
    // Through the nearest of its relays we are linked to (the remote ranked them by its own RTT
    // among the least loaded, see byRank): the detour is our hop plus its. Else peers reaching
    // the same target spread over its relays (by their own id).
    const linked = theirs.filter((r) => this.host.isOpen(r))
    const from = linked.length > 0 ? linked : mine.length > 0 ? mine : theirs
    const relay = linked.length > 1 ? this.nearest(linked) : from[parseInt(this.host.localId.slice(0, 6), 16) % Math.max(1, from.length)]
    if (relay === undefined) return
    link.relaysTried.set(relay, now)
    const events = this.host.events(link)
    const route = link.via === undefined ? undefined : [...link.via, link.remote].slice(0, MAX_ROUTE_HOPS)
    const circuit = this.relays.open(link.remote, relay, events, route)
    events.conn = circuit
    if (link.alt !== undefined && link.state === 'open') link.alt.close() // an upgrade attempt yields to the circuit
    if (link.conn === undefined) link.conn = circuit
    else link.alt = circuit
    this.host.log.debug('circuit', { peer: link.remote, relay, hopeless: link.remoteReach !== undefined && directHopeless(this.reach, link.remoteReach) })
  }

  /** The alternate connection opened first (a circuit beats the direct attempt) or later (an upgrade, or a new circuit). */
  onAltOpen(link: Link): void {
    const alt = link.alt!
    const old = link.conn
    link.conn = alt
    link.alt = undefined
    this.rerouted(link)
    if (link.state === 'connecting') {
      // The slower one keeps trying as the alternate: a direct attempt may still upgrade the link.
      if (old !== undefined && !(old instanceof CircuitConnection)) {
        link.alt = old
        link.altAt = link.attemptAt
      } else old?.close()
      return this.host.onOpen(link)
    }
    if (old instanceof CircuitConnection) old.closeWith('upgraded')
    else old?.close()
    if (!(alt instanceof CircuitConnection)) {
      this.host.stats.upgraded++
      this.host.log.debug('relayed link upgraded to a direct path', { peer: link.remote, path: alt.path?.kind })
    }
    link.pump(this.host.now())
  }

  /** A new path carries an open link: when its relay had gone, the reroute is done. */
  rerouted(link: Link): void {
    if (link.lostAt < 0) return
    const ms = this.host.now() - link.lostAt
    link.lostAt = -1
    this.host.stats.rerouted++
    this.host.stats.rerouteMsSum += ms
    this.host.stats.rerouteMsMax = Math.max(this.host.stats.rerouteMsMax, ms)
  }

  /** The connection carrying (or about to carry) the link closed. */
  connClosed(link: Link, reason: string): void {
    const relayed = link.conn instanceof CircuitConnection
    if (link.state === 'connecting' && link.alt !== undefined) {
      // The direct attempt failed while a circuit is on its way (or the reverse): wait for the other.
      this.learnFrom(link.conn?.failure?.()?.code ?? reason)
      link.conn = link.alt
      link.alt = undefined
      return
    }
    if (link.state === 'open' && relayed && REROUTE_REASONS.has(reason)) {
      // The relay went: another circuit (or the direct attempt under way) takes over within REROUTE_MS.
      link.conn = undefined
      link.lostAt = this.host.now()
      this.tryCircuit(link)
      if (link.conn === undefined && link.alt === undefined && link.initiator) this.renegotiate(link)
      return
    }
    if (link.state === 'connecting' && relayed) {
      link.conn = undefined
      this.tryCircuit(link)
      if (link.conn !== undefined) return
    }
    this.host.closeLink(link, reason)
  }

  /** The alternate connection closed: a failed upgrade waits longer to retry; a failed circuit tries the next relay. */
  altClosed(link: Link, reason: string): void {
    const alt = link.alt
    link.alt = undefined
    if (alt instanceof CircuitConnection) {
      if (link.state === 'connecting' || link.conn === undefined) this.tryCircuit(link)
      return
    }
    this.learnFrom(alt?.failure?.()?.code ?? reason)
    const retry = this.relays?.init.upgradeRetryMs ?? 30_000
    link.upgradeBackoff = Math.min(retry * 16, link.upgradeBackoff === 0 ? retry : link.upgradeBackoff * 2)
    link.upgradeAt = this.host.now() + link.upgradeBackoff
  }

  /** Tries a direct path (and hears the remote's current relays) beside the circuit that carries an open link. */
  private renegotiate(link: Link): void {
    link.altInitiator = true
    link.altAttempt = this.host.nextAttempt()
    link.altAt = this.host.now()
    link.alt = this.host.openConnection(link, true)
    link.upgradeAt = 0
  }

  /** A circuit arrived from the relay layer: it carries a new link, or joins one connecting or rerouting. */
  private acceptCircuit(conn: CircuitConnection): boolean {
    let link = this.host.links.get(conn.remote)
    // Our direct link is open: a circuit from the same peer is stale (or the remote lost its side, which our link learns soon).
    if (link !== undefined && link.state === 'open' && !(link.conn instanceof CircuitConnection) && link.conn !== undefined) return false
    // Both ends opened a circuit (each heard of the other's relays at another moment): the one
    // opened by the smaller id stays, as when both dial (glare); both ends decide alike.
    const mine = link === undefined ? undefined : [link.conn, link.alt].find((c) => c instanceof CircuitConnection && c.leg === 0)
    if (link !== undefined && mine !== undefined) {
      if (this.host.localId < conn.remote) return false
      mine.close()
      if (link.conn === mine) link.conn = undefined
      if (link.alt === mine) link.alt = undefined
    }
    if (link === undefined) {
      if (!this.host.makeRoom(conn.remote)) return false
      link = this.host.newLink(conn.remote)
      this.host.links.set(conn.remote, link)
      this.host.ensureTicking()
      link.conn = conn
    } else {
      link.alt?.close()
      if (link.conn === undefined) link.conn = conn
      else link.alt = conn
    }
    const events = this.host.events(link)
    events.conn = conn
    conn.attach(events)
    return true
  }

  /** Of linked peers, the one with the smallest RTT (the first of equals). */
  private nearest(peers: readonly PeerId[]): PeerId | undefined {
    let best: PeerId | undefined
    let bestMs = Infinity
    for (const p of peers) {
      const ms = this.rttTo(p)
      if (best === undefined || ms < bestMs) [best, bestMs] = [p, ms]
    }
    return best
  }

  /** The RTT estimate of our link to `peer` (Infinity without one). */
  private rttTo(peer: PeerId): number {
    const link = this.host.links.get(peer)
    return link === undefined ? Infinity : this.rttEstimate(link)
  }

  /** The link's smoothed RTT, or before the first probe a third of its setup time (ICE, DTLS and SCTP take about three round trips). */
  private rttEstimate(link: Link): number {
    return link.rtt.stats()?.srttMs ?? (link.openedAt >= 0 ? (link.openedAt - link.createdAt) / 3 : 1000)
  }

  drained(link: Link): void {
    const now = this.host.now()
    link.pump(now, true)
    // Circuits through this peer were held back by its queue: let them go on (a scan only when there are some).
    if (this.relays?.carriesVia(link.remote) !== true) return
    for (const other of this.host.links.values()) {
      if (other !== link && other.conn instanceof CircuitConnection && other.conn.relay === link.remote) other.pump(now, true)
    }
  }

  private relayHost(): RelayHost {
    return {
      log: this.host.log,
      now: () => this.host.now(),
      sendLink: (peer, type, payload, priority) => {
        const link = this.host.links.get(peer)
        if (link === undefined || link.state === 'closed') return false
        const now = this.host.now()
        if (link.scheduler.enqueue(priority, encodeFrame(LINK_PROTO, type, payload), now) !== 'rejected') link.pump(now)
        return true
      },
      queuedTo: (peer) => {
        const link = this.host.links.get(peer)
        if (link === undefined) return 0
        // Only what waits in its queues: the transport's own buffer drains by itself and says so
        // (drained), but a circuit held back for bytes nobody queued would wait for the next send.
        let bytes = 0
        for (const cls of PRIORITIES) bytes += link.scheduler.queuedBytes(cls)
        return bytes
      },
      isOpen: (peer) => this.host.isOpen(peer),
      connect: (peer, via) => {
        if (!this.host.closed()) this.host.connect(peer, via === undefined ? {} : { via })
      },
      acceptCircuit: (conn) => this.acceptCircuit(conn),
      homesChanged: () => {
        // Links still trying (or rerouting) whose remote heard of no relay of ours: tell them now.
        for (const link of this.host.links.values()) {
          const trying = link.state === 'connecting' || (link.state === 'open' && link.conn === undefined)
          if (!trying || link.conn instanceof CircuitConnection || link.alt instanceof CircuitConnection || link.reachSent.size === 0) continue
          link.reachSent.clear()
          this.host.routeSignal(link, { [META_KEY]: 1 }, false)
        }
      },
      volunteers: () => {
        const out: { id: PeerId; rttMs: number; load: number; held: boolean }[] = []
        for (const link of this.host.links.values()) {
          const v = link.remoteVolunteer
          if (link.state !== 'open' || v === undefined || v[0] === 0 || link.conn instanceof CircuitConnection) continue
          out.push({ id: link.remote, rttMs: this.rttEstimate(link), load: v[1] / v[0], held: this.host.held(link.remote) })
        }
        return out
      },
      held: (peer) => this.host.held(peer),
      rttMs: (peer) => this.rttTo(peer),
    }
  }

  /** At the cap, closes the least recently used link no protocol insists on. */
}
