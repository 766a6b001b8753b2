import { MAX_MESSAGE_BYTES, decodeFrame, encodeFrame, isUint, type Frame } from '../core/codec.js'
import { P2PError } from '../core/errors.js'
import { parsePeerId, type PeerId } from '../core/id.js'
import { Link, type ClassQueueStats, type LinkState, type PacingInit } from './link.js'
import { LinkFailures } from './link-failures.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import {
  resolveLinkInit, type ConnectResult, type FrameCache, type LinkManagerComponents, type LinkManagerInit, type LinkManagerStats,
  type LinkProtocol, type MessageHandler, type ResolvedLinkInit, type SendResult, type SignalingChannel,
} from './link-types.js'
import { checkLiveness } from './liveness.js'
import { Priority, PRIORITIES } from './priority.js'
import type { SchedulerInit } from './scheduler.js'
import { onRttFrame, summarizeRtt, type RttStats, type RttSummary } from './rtt.js'
import { decodeSignalRelay, encodeSignalRelay, relayStep } from './signal-relay.js'
import { directHopeless, encodeReach, parseReach, UNKNOWN_REACH, type Reach } from './nat.js'
import { CircuitConnection, RelayLayer, resolveRelayInit, type RelayHost, type VolunteerInfo } from './relay.js'
import { PATH_KINDS, type Connection, type ConnectionEvents, type PathKind, type SignalData, type Transport } from './transport.js'

export type {
  ConnectResult, FrameCache, LinkManagerComponents, LinkManagerInit, LinkManagerStats, LinkProtocol, MessageHandler, SendResult, SignalingChannel,
} from './link-types.js'

/** Key under which the link layer tags signaling data with its connection attempt. */
const ATTEMPT_KEY = '_a'
/** Keys of what a link's first signal of an attempt says besides (see relay.ts): reach, home relays, relay capacity, upgrade. */
const REACH_KEY = '_n'
const RELAYS_KEY = '_r'
const VOLUNTEER_KEY = '_v'
const UPGRADE_KEY = '_u'
/** A signal that only says reach and relays (sent when home relays arrive after the first signal); never passed to the transport. */
const META_KEY = '_m'
/** Home relays read from one signal at most. */
const MAX_REMOTE_RELAYS = 4
/** How much longer a link carried by a circuit may stay silent: its relay's loss is detected first, then another circuit opens. */
const RELAYED_DEAD_EXTRA_MS = 3000
/** Why a circuit may close while both ends still want the link: the link reroutes (other ends of a circuit close the link). */
const REROUTE_REASONS = new Set(['relay-lost', 'relay-unreachable', 'circuit-relay-full', 'circuit-no-reservation', 'circuit-not-a-relay', 'circuit-upgraded'])
/** A relay that failed a link's circuit is tried again for it after this long. */
const RELAY_RETRY_MS = 4000
/** An open link whose circuit went and got no other in this long closes. */
const REROUTE_MS = 5000

/** Longest route an introduction may take through the overlay. */
export const MAX_ROUTE_HOPS = 32

/**
 * Owns every connection of a peer. Overlays ask for links and send on them with
 * a protocol, a type and a priority; they never open or close sockets. One link
 * per remote peer carries every protocol.
 */
export class LinkManager {
  readonly localId: PeerId
  readonly stats: LinkManagerStats = {
    opened: 0,
    closed: 0,
    introduced: 0,
    viaSignaling: 0,
    relayed: 0,
    badFrames: 0,
    handlerErrors: 0,
    gcClosed: 0,
    relayedLinks: 0,
    upgraded: 0,
  }
  /** Relaying through peers, when the peer has an identity to authenticate circuits with. */
  readonly relays: RelayLayer | undefined
  /** What this peer knows of its NAT and ICE servers (the transport's word). */
  reach: Reach = UNKNOWN_REACH
  /** Connection attempts that closed before opening, with what the transport could tell of why. */
  readonly failures = new LinkFailures()
  private readonly env: LinkManagerComponents['env']
  /** `env.clock`, read once: every message asks it the time. */
  private readonly clock: LinkManagerComponents['env']['clock']
  private readonly transport: Transport
  private readonly signaling: SignalingChannel | undefined
  private readonly frameCache: FrameCache | undefined
  private readonly init: ResolvedLinkInit
  private readonly relayedInit: ResolvedLinkInit
  private readonly schedulerInit: SchedulerInit
  private readonly pacing: PacingInit
  private readonly links = new Map<PeerId, Link>()
  private readonly protocols: LinkProtocol[] = []
  private readonly handlers = new Map<number, MessageHandler>()
  private tickTimer: unknown = undefined
  private relaysTickAt = -Infinity
  private nextAttempt = 1
  private closed = false

  constructor(components: LinkManagerComponents, init: LinkManagerInit = {}) {
    this.env = components.env
    this.clock = components.env.clock
    this.localId = components.localId
    this.transport = components.transport
    this.signaling = components.signaling
    this.frameCache = components.frameCache
    this.init = resolveLinkInit(init)
    this.relayedInit = { ...this.init, deadAfterMs: this.init.deadAfterMs + RELAYED_DEAD_EXTRA_MS }
    if (components.identity !== undefined) {
      this.relays = new RelayLayer(this.relayHost(), { ...components.identity, localId: this.localId }, resolveRelayInit(init.relay), components.relayDirectory)
    }
    this.updateReach()
    const { agingBoundMs, bounds, mode } = init
    this.schedulerInit = { agingBoundMs, bounds, mode }
    this.pacing = init
  }

  register(protocol: LinkProtocol): void {
    this.protocols.push(protocol)
  }

  /** Registers the handler of one message type of one protocol (one handler each). */
  handle(proto: number, type: number, handler: MessageHandler): void {
    if (proto === LINK_PROTO) throw P2PError.INVALID_ARGUMENT('protocol 0 belongs to the link layer')
    const key = proto * 256 + type
    if (this.handlers.has(key)) throw P2PError.INVALID_ARGUMENT(`handler ${proto}/${type} already registered`)
    this.handlers.set(key, handler)
  }

  /**
   * Ensures a link to `peer`. With `via`, signaling goes through that linked peer
   * (an introduction), or along a route of peers each linked to the next, the
   * last one linked to `peer` (an overlay path, at most 32 hops); a first hop
   * still connecting carries it once open. Without `via`, or when its first hop
   * has no link, signaling goes through the bootstrap node. At the link cap, GC
   * closes one link no protocol insists on.
   */
  connect(peer: PeerId, opts: { via?: PeerId | readonly PeerId[] } = {}): ConnectResult {
    if (this.closed) throw P2PError.LINK_CLOSED('link manager closed')
    if (peer === this.localId) return 'self'
    const existing = this.links.get(peer)
    if (existing !== undefined) return existing.state === 'open' ? 'open' : 'connecting'
    if (!this.makeRoom()) return 'limit'
    const link = this.createLink(peer, true)
    const route = opts.via === undefined ? [] : typeof opts.via === 'string' ? [opts.via] : [...opts.via]
    if (route.length > 0 && route.length <= MAX_ROUTE_HOPS && !route.includes(peer) && !route.includes(this.localId)) {
      link.via = route
    }
    return 'connecting'
  }

  /**
   * Queues a message on the link to `peer` (open or still connecting). With
   * `key`, a waiting message of the same priority and key is superseded.
   * Throws MESSAGE_TOO_LARGE for a frame over 256 KiB (a caller bug).
   */
  send(peer: PeerId, proto: number, type: number, payload: unknown, priority: Priority, opts?: { key?: string }): SendResult {
    const link = this.links.get(peer)
    if (link === undefined) return 'no-link'
    const bytes = encodeFrame(proto, type, payload)
    if (bytes.length > MAX_MESSAGE_BYTES) throw P2PError.MESSAGE_TOO_LARGE(bytes.length, MAX_MESSAGE_BYTES)
    const now = this.clock.now()
    link.lastUseAt = now
    if (link.trySendNow(bytes, now, priority)) return 'queued'
    const result = link.scheduler.enqueue(priority, bytes, now, opts?.key)
    if (result !== 'rejected') link.pump(now)
    return result
  }

  /**
   * Queues one message for several peers, encoding it once (a move to every
   * neighbour). Peers without a link are skipped.
   */
  broadcast(peers: Iterable<PeerId>, proto: number, type: number, payload: unknown, priority: Priority, opts?: { key?: string }): void {
    const bytes = encodeFrame(proto, type, payload)
    if (bytes.length > MAX_MESSAGE_BYTES) throw P2PError.MESSAGE_TOO_LARGE(bytes.length, MAX_MESSAGE_BYTES)
    const now = this.clock.now()
    this.frameCache?.share(bytes)
    for (const peer of peers) {
      const link = this.links.get(peer)
      if (link === undefined) continue
      link.lastUseAt = now
      if (!link.trySendNow(bytes, now, priority) && link.scheduler.enqueue(priority, bytes, now, opts?.key) !== 'rejected') link.pump(now)
    }
  }

  linkState(peer: PeerId): LinkState | undefined {
    return this.links.get(peer)?.state
  }

  isOpen(peer: PeerId): boolean {
    return this.links.get(peer)?.state === 'open'
  }

  /** Peers with an open link. */
  openPeers(): PeerId[] {
    const out: PeerId[] = []
    for (const [peer, link] of this.links) if (link.state === 'open') out.push(peer)
    return out
  }

  get linkCount(): number {
    return this.links.size
  }

  /** The link itself, for inspection (inspector, benchmarks); do not send on it directly. */
  link(peer: PeerId): Link | undefined {
    return this.links.get(peer)
  }

  /** Open links by the kind of their network path; `unknown` until (or where) the transport tells. */
  pathCounts(): Record<PathKind | 'unknown', number> {
    const out = { unknown: 0 } as Record<PathKind | 'unknown', number>
    for (const k of PATH_KINDS) out[k] = 0
    for (const link of this.links.values()) if (link.state === 'open') out[link.conn?.path?.kind ?? 'unknown']++
    return out
  }

  /** Round-trip estimate of the link to `peer`, once it has a sample. */
  rtt(peer: PeerId): RttStats | undefined {
    return this.links.get(peer)?.rtt.stats()
  }

  /** RTT percentiles over the links to `peers` (all open links without), from recent samples. */
  rttSummary(peers?: Iterable<PeerId>): RttSummary | undefined {
    return summarizeRtt([...(peers ?? this.openPeers())].map((p) => this.rtt(p)))
  }

  /** The protocols (ids) that insist on the link to `peer` now: what link GC would hear. */
  insisting(peer: PeerId): number[] {
    const out: number[] = []
    for (const p of this.protocols) if (p.insists?.(peer) === true && !out.includes(p.id)) out.push(p.id)
    return out
  }

  /** Queue length and bytes per class [HIGH, MEDIUM, LOW] on the link to `peer`. */
  queueStats(peer: PeerId): [ClassQueueStats, ClassQueueStats, ClassQueueStats] | undefined {
    const link = this.links.get(peer)
    if (link === undefined) return undefined
    return [link.queueStats(Priority.HIGH), link.queueStats(Priority.MEDIUM), link.queueStats(Priority.LOW)]
  }

  /** Queue length and bytes per class summed over every link. */
  totalQueueStats(): [ClassQueueStats, ClassQueueStats, ClassQueueStats] {
    const out = PRIORITIES.map(() => ({ count: 0, bytes: 0 })) as [ClassQueueStats, ClassQueueStats, ClassQueueStats]
    for (const link of this.links.values()) {
      for (const cls of PRIORITIES) {
        out[cls].count += link.scheduler.length(cls)
        out[cls].bytes += link.scheduler.queuedBytes(cls)
      }
    }
    return out
  }

  /**
   * Signaling data for us from `from`, relayed by linked peers (`via`: the route
   * from us towards `from`) or, when `via` is null, by the bootstrap node.
   * `initiator` says which side sent it.
   */
  receiveSignal(from: PeerId, initiator: boolean, data: SignalData, via: readonly PeerId[] | null): void {
    if (this.closed || from === this.localId) return
    const attempt = typeof data[ATTEMPT_KEY] === 'number' ? (data[ATTEMPT_KEY] as number) : -1
    let link = this.links.get(from)
    if (data[META_KEY] === 1) {
      if (link !== undefined && (link.attempt === attempt || link.altAttempt === attempt)) this.readReach(link, data)
      return
    }
    if (!initiator) {
      // An answer (or a later candidate) for our attempt; anything for an older attempt is stale.
      if (link !== undefined && link.initiator && link.conn !== undefined && link.attempt === attempt && !(link.conn instanceof CircuitConnection)) {
        link.answered = true
        this.readReach(link, data)
        link.conn.signal(data)
      } else if (link !== undefined && link.altInitiator && link.alt !== undefined && link.altAttempt === attempt) {
        this.readReach(link, data)
        link.alt.signal(data)
      }
      return
    }
    if (link !== undefined && link.attempt === attempt && !link.initiator) {
      link.conn?.signal(data) // more of the same attempt (trickled candidates)
      return
    }
    if (link !== undefined && !link.altInitiator && link.altAttempt === attempt && link.alt !== undefined) {
      link.alt.signal(data)
      return
    }
    if (link !== undefined && link.state === 'open' && data[UPGRADE_KEY] === 1) {
      // The remote tries a direct path (or renews its relays) beside the circuit that carries this link.
      this.readReach(link, data)
      if (link.conn instanceof CircuitConnection || link.conn === undefined) {
        if (link.alt !== undefined && !(link.alt instanceof CircuitConnection)) link.alt.close()
        if (!(link.alt instanceof CircuitConnection)) {
          link.altInitiator = false
          link.altAttempt = attempt
          link.altAt = this.clock.now()
          link.alt = this.openConnection(link, false)
          link.alt.signal(data)
        }
      }
      if (link.conn === undefined) this.planCircuit(link, true)
      return
    }
    if (link !== undefined && link.initiator && link.state === 'connecting') {
      // Glare: both sides dialled. The smaller id stays the initiator.
      if (this.localId < from) return
      this.replaceConnection(link, false)
    } else if (link !== undefined && link.state === 'open') {
      // The remote lost its side (reload, timeout) and dials again: start afresh.
      this.closeLink(link, 'redialled')
      link = undefined
    } else if (link !== undefined) {
      // A new attempt replaces one whose offer or answer was lost.
      this.replaceConnection(link, false)
    }
    if (link === undefined) {
      if (!this.makeRoom()) return
      link = this.createLink(from, false)
    }
    link.attempt = attempt
    link.via = via === null ? undefined : [...via]
    link.route = via === null ? 'signaling' : 'intro'
    this.readReach(link, data)
    link.conn?.signal(data)
  }

  /**
   * The bootstrap node could not deliver our signaling to `peer` (it is not
   * there): a connection attempt that depends on it fails now rather than at
   * the connect timeout, so protocols can try someone else.
   */
  signalFailed(peer: PeerId, reason: string): void {
    const link = this.links.get(peer)
    if (link !== undefined && link.state === 'connecting' && link.route !== 'intro' && !(link.alt instanceof CircuitConnection)) this.closeLink(link, reason)
  }

  /** Closes every link and stops timers. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const link of [...this.links.values()]) this.closeLink(link, 'shutdown')
    if (this.tickTimer !== undefined) this.env.timers.clearTimeout(this.tickTimer)
    this.tickTimer = undefined
  }

  private createLink(peer: PeerId, initiator: boolean): Link {
    const link = new Link(peer, initiator, this.clock.now(), this.schedulerInit, this.pacing)
    this.links.set(peer, link)
    this.replaceConnection(link, initiator)
    this.ensureTicking()
    return link
  }

  /** Gives `link` a fresh transport connection, silencing the old one. */
  private replaceConnection(link: Link, initiator: boolean): void {
    const old = link.conn
    link.conn = undefined
    old?.close()
    link.initiator = initiator
    link.attemptAt = this.clock.now()
    link.answered = false
    if (initiator) link.attempt = this.nextAttempt++
    link.conn = this.openConnection(link, initiator)
  }

  private openConnection(link: Link, initiator: boolean): Connection {
    const events = new LinkManager.Events(this, link)
    return (events.conn = this.transport.open(link.remote, initiator, events))
  }

  /**
   * A connection's callbacks, for the link while it still holds that connection:
   * one object of fields (no closures), as every message received passes here.
   */
  private static readonly Events = class implements ConnectionEvents {
    conn: Connection | undefined
    constructor(
      private readonly manager: LinkManager,
      private readonly link: Link,
    ) {}
    private current(): boolean {
      return this.conn !== undefined && (this.link.conn === this.conn || this.link.alt === this.conn)
    }
    onSignal(data: SignalData): void {
      if (this.current()) this.manager.routeSignal(this.link, data, this.link.alt === this.conn)
    }
    onOpen(): void {
      if (this.link.conn === this.conn && this.conn !== undefined) this.manager.connOpened(this.link)
      else if (this.link.alt === this.conn && this.conn !== undefined) this.manager.onAltOpen(this.link)
    }
    onData(bytes: Uint8Array): void {
      if (this.current()) this.manager.onData(this.link, bytes)
    }
    onDrain(): void {
      if (this.link.conn === this.conn && this.conn !== undefined) this.manager.drained(this.link)
    }
    onClose(reason: string): void {
      if (this.link.conn === this.conn && this.conn !== undefined) this.manager.connClosed(this.link, reason)
      else if (this.link.alt === this.conn && this.conn !== undefined) this.manager.altClosed(this.link, reason)
    }
  }

  private routeSignal(link: Link, raw: SignalData, alt = false): void {
    // Tag every signal with its attempt, so a retried or glared attempt never mixes with an old one.
    const attempt = alt ? link.altAttempt : link.attempt
    const initiator = alt ? link.altInitiator : link.initiator
    const data: SignalData = { ...raw, [ATTEMPT_KEY]: attempt }
    if (alt && initiator) data[UPGRADE_KEY] = 1
    const key = `${alt ? 'a' : 'm'}${initiator ? 'i' : 'r'}${attempt}`
    if (!link.reachSent.has(key) && this.relays !== undefined) {
      // The first signal of an attempt says what relaying needs (see relay.ts).
      link.reachSent.add(key)
      link.localRelays = this.relays.homeRelays()
      data[REACH_KEY] = encodeReach(this.reach)
      if (link.localRelays.length > 0) data[RELAYS_KEY] = [...link.localRelays]
      const v = this.relays.volunteerInfo()
      if (v !== undefined) data[VOLUNTEER_KEY] = [...v]
    }
    const route = link.via ?? []
    const frame = encodeSignalRelay(link.remote, this.localId, initiator, data, route)
    if (frame.length > this.init.maxSignalBytes) {
      if (alt) return link.alt?.close()
      this.closeLink(link, 'signal-too-large')
      return
    }
    const first = route[0] === undefined ? undefined : this.links.get(route[0])
    if (first !== undefined && first.state !== 'closed') {
      first.scheduler.enqueue(Priority.MEDIUM, frame, this.clock.now())
      first.pump(this.clock.now())
      link.route ??= 'intro'
    } else if (this.signaling?.send(link.remote, initiator, data) === true) {
      link.route ??= 'signaling'
    } else if (alt) {
      const conn = link.alt
      link.alt = undefined
      conn?.close()
    } else if (!(link.alt instanceof CircuitConnection)) {
      this.closeLink(link, 'no-signaling-route')
    }
  }

  private connOpened(link: Link): void {
    if (link.state === 'connecting') return this.onOpen(link)
    // A circuit replacing one whose relay went.
    link.lostAt = -1
    link.pump(this.clock.now())
  }

  private onOpen(link: Link): void {
    if (link.state !== 'connecting') return
    const now = this.clock.now()
    link.state = 'open'
    link.openedAt = now
    link.lastRecvAt = now
    link.lastSentAt = now
    this.stats.opened++
    if (link.conn instanceof CircuitConnection) {
      this.stats.relayedLinks++
      link.upgradeAt = link.alt === undefined ? now + this.relays!.init.upgradeRetryMs : 0
    } else if (link.route === 'intro') this.stats.introduced++
    else this.stats.viaSignaling++
    this.env.log.debug('link open', { peer: link.remote, route: link.route, path: link.conn?.path?.kind, ms: now - link.createdAt })
    this.relays?.onLinkOpen(link.remote)
    for (const p of this.protocols) p.onLinkOpen?.(link.remote)
    link.pump(now)
  }

  private onData(link: Link, bytes: Uint8Array): void {
    const now = this.clock.now()
    link.lastRecvAt = now
    link.bytesReceived += bytes.length
    link.framesReceived++
    let frame = this.frameCache?.get(bytes)
    if (frame === undefined) {
      frame = decodeFrame(bytes)
      this.frameCache?.set(bytes, frame)
    }
    if (frame === null) return this.bad(link)
    if (frame.proto !== LINK_PROTO) return this.deliver(link, frame, now)
    switch (frame.type) {
      case LinkMsg.PING:
        if (frame.payload === 1) link.remoteWantsUntil = now + this.init.deadAfterMs
        return
      case LinkMsg.FRAG: {
        const whole = link.reassembler.push(frame.payload)
        if (whole === undefined) return
        const inner = whole === null ? null : decodeFrame(whole)
        if (inner !== null && inner.proto === LINK_PROTO && (inner.type === LinkMsg.C_UP || inner.type === LinkMsg.C_DOWN) && this.relays !== undefined) {
          // A large frame of a circuit, cut into pieces on this hop.
          if (!this.relays.onFrame(link.remote, inner.type, inner.payload)) this.bad(link)
          return
        }
        if (inner === null || inner.proto === LINK_PROTO) return this.bad(link)
        return this.deliver(link, inner, now)
      }
      case LinkMsg.PROBE:
      case LinkMsg.ECHO: {
        const r = onRttFrame(link, frame.type, frame.payload, now)
        if (r === 'want') link.remoteWantsUntil = now + this.init.deadAfterMs
        return r === 'bad' ? this.bad(link) : undefined
      }
      case LinkMsg.SIGNAL:
        link.lastUseAt = now
        if (bytes.length > this.init.maxSignalBytes) return this.bad(link)
        return this.onSignalRelay(link, frame.payload, bytes)
      default:
        if (this.relays === undefined || link.state !== 'open' || !this.relays.onFrame(link.remote, frame.type, frame.payload)) return this.bad(link)
    }
  }

  private deliver(link: Link, frame: Frame, now: number): void {
    link.lastUseAt = now
    const handler = this.handlers.get(frame.proto * 256 + frame.type)
    if (handler === undefined) return
    try {
      handler(link.remote, frame.payload)
    } catch (err) {
      this.stats.handlerErrors++
      this.env.log.error('message handler threw', { proto: frame.proto, type: frame.type, err: String(err) })
      if (this.init.strict) throw err
    }
  }

  /**
   * Relays signaling one step along its route. Each hop accepts it only from the
   * hop before it (the first only from the origin itself) and passes it only over
   * an open link, so no peer can inject signaling under another's name into a route.
   */
  private onSignalRelay(link: Link, payload: unknown, frameBytes: Uint8Array): void {
    const relay = decodeSignalRelay(payload)
    if (relay === null) return this.bad(link)
    const step = relayStep(relay, this.localId, link.remote)
    if (step === 'bad') return this.bad(link)
    if (step.deliver) return this.receiveSignal(relay.from, relay.initiator, relay.data, step.route)
    const target = this.links.get(step.next)
    if (target === undefined || target.state === 'closed') return
    this.stats.relayed++
    const now = this.clock.now()
    target.scheduler.enqueue(Priority.MEDIUM, frameBytes, now)
    target.pump(now)
  }

  private bad(link: Link): void {
    link.badFrames++
    this.stats.badFrames++
    if (link.badFrames > this.init.maxBadFrames) this.closeLink(link, 'protocol-violation')
  }

  private closeLink(link: Link, reason: string): void {
    if (link.state === 'closed') return
    if (link.state === 'connecting' && reason !== 'shutdown') {
      const now = this.clock.now()
      const cause = link.conn?.failure?.()
      this.failures.record({ peer: link.remote, at: now, triedMs: now - link.createdAt, reason, route: link.route, cause }, this.env.log)
      this.learnFrom(cause?.code ?? reason)
    }
    const wasOpen = link.state === 'open'
    link.state = 'closed'
    if (this.links.get(link.remote) === link) this.links.delete(link.remote)
    link.scheduler.clear()
    const conn = link.conn
    const alt = link.alt
    link.conn = undefined
    link.alt = undefined
    conn?.close()
    alt?.close()
    this.stats.closed++
    this.env.log.debug('link closed', { peer: link.remote, reason })
    if (wasOpen) this.relays?.onLinkClosed(link.remote)
    for (const p of this.protocols) p.onLinkClosed?.(link.remote, reason)
  }

  // --- relaying through peers (relay.ts) ---

  /** Re-reads the transport's reach and sets what this peer relays and how many home relays it keeps. */
  private updateReach(): void {
    this.reach = this.transport.reach?.() ?? UNKNOWN_REACH
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
  private learnFrom(code: string): void {
    // Only a peer that does not know its NAT learns from failures; a known class already says what it needs.
    if (this.relays === undefined || this.reach.turn || this.reach.nat !== 'unknown' || (code !== 'ice-failed' && code !== 'connect-timeout')) return
    this.learntHomes = Math.max(this.learntHomes, Math.min(1, this.relays.init.homeRelays))
    this.updateReach()
  }

  /** Reads the remote's reach, home relays and relay capacity from its signal (untrusted: bounded, validated). */
  private readReach(link: Link, data: SignalData): void {
    if (this.relays === undefined) return
    const reach = parseReach(data[REACH_KEY])
    if (reach === null) return // an attempt says it once, in its first signal
    link.remoteReach = reach
    const relays = data[RELAYS_KEY]
    const list: PeerId[] = []
    if (Array.isArray(relays)) {
      for (const r of relays.slice(0, MAX_REMOTE_RELAYS)) {
        const id = parsePeerId(r)
        if (id !== null && id !== this.localId && id !== link.remote && !list.includes(id)) list.push(id)
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
    const at = now || hopeless || link.state === 'open' ? this.clock.now() : link.attemptAt + relays.init.relayAfterMs
    link.circuitAt = link.circuitAt > 0 ? Math.min(link.circuitAt, at) : at
    if (link.circuitAt <= this.clock.now()) this.tryCircuit(link)
  }

  /**
   * Opens a circuit for `link` through the next of the remote's home relays,
   * when this end is the one to open it: the one dialling a peer that named
   * home relays, or the other end when only the dialler named some.
   */
  private tryCircuit(link: Link): void {
    link.circuitAt = 0
    if (this.relays === undefined || link.alt instanceof CircuitConnection || link.conn instanceof CircuitConnection) return
    if (link.state === 'open' && link.conn !== undefined) return // a direct path carries it
    const iOpen = link.remoteRelays.length > 0 && (link.initiator || link.localRelays.length === 0)
    if (!iOpen) return
    // A relay we are linked to first (no link to set up), none tried in the last few seconds.
    const now = this.clock.now()
    const fresh = link.remoteRelays.filter((r) => now - (link.relaysTried.get(r) ?? -Infinity) > RELAY_RETRY_MS)
    // Peers reaching the same target spread over its relays (by their own id).
    const linked = fresh.filter((r) => this.isOpen(r))
    const from = linked.length > 0 ? linked : fresh
    const relay = from[parseInt(this.localId.slice(0, 6), 16) % Math.max(1, from.length)]
    if (relay === undefined) return
    link.relaysTried.set(relay, now)
    const events = new LinkManager.Events(this, link)
    const route = link.via === undefined ? undefined : [...link.via, link.remote].slice(0, MAX_ROUTE_HOPS)
    const circuit = this.relays.open(link.remote, relay, events, route)
    events.conn = circuit
    if (link.alt !== undefined && link.state === 'open') link.alt.close() // an upgrade attempt yields to the circuit
    if (link.conn === undefined) link.conn = circuit
    else link.alt = circuit
    this.env.log.debug('circuit', { peer: link.remote, relay, hopeless: link.remoteReach !== undefined && directHopeless(this.reach, link.remoteReach) })
  }

  /** The alternate connection opened first (a circuit beats the direct attempt) or later (an upgrade, or a new circuit). */
  private onAltOpen(link: Link): void {
    const alt = link.alt!
    const old = link.conn
    link.conn = alt
    link.alt = undefined
    link.lostAt = -1
    if (link.state === 'connecting') {
      // The slower one keeps trying as the alternate: a direct attempt may still upgrade the link.
      if (old !== undefined && !(old instanceof CircuitConnection)) {
        link.alt = old
        link.altAt = link.attemptAt
      } else old?.close()
      return this.onOpen(link)
    }
    if (old instanceof CircuitConnection) old.closeWith('upgraded')
    else old?.close()
    if (!(alt instanceof CircuitConnection)) {
      this.stats.upgraded++
      this.env.log.debug('relayed link upgraded to a direct path', { peer: link.remote, path: alt.path?.kind })
    }
    link.pump(this.clock.now())
  }

  /** The connection carrying (or about to carry) the link closed. */
  private connClosed(link: Link, reason: string): void {
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
      link.lostAt = this.clock.now()
      this.tryCircuit(link)
      if (link.conn === undefined && link.alt === undefined && link.initiator) this.renegotiate(link)
      return
    }
    if (link.state === 'connecting' && relayed) {
      link.conn = undefined
      this.tryCircuit(link)
      if (link.conn !== undefined) return
    }
    this.closeLink(link, reason)
  }

  /** The alternate connection closed: a failed upgrade waits longer to retry; a failed circuit tries the next relay. */
  private altClosed(link: Link, reason: string): void {
    const alt = link.alt
    link.alt = undefined
    if (alt instanceof CircuitConnection) {
      if (link.state === 'connecting' || link.conn === undefined) this.tryCircuit(link)
      return
    }
    this.learnFrom(alt?.failure?.()?.code ?? reason)
    const retry = this.relays?.init.upgradeRetryMs ?? 30_000
    link.upgradeBackoff = Math.min(retry * 16, link.upgradeBackoff === 0 ? retry : link.upgradeBackoff * 2)
    link.upgradeAt = this.clock.now() + link.upgradeBackoff
  }

  /** Tries a direct path (and hears the remote's current relays) beside the circuit that carries an open link. */
  private renegotiate(link: Link): void {
    link.altInitiator = true
    link.altAttempt = this.nextAttempt++
    link.altAt = this.clock.now()
    link.alt = this.openConnection(link, true)
    link.upgradeAt = 0
  }

  /** A circuit arrived from the relay layer: it carries a new link, or joins one connecting or rerouting. */
  private acceptCircuit(conn: CircuitConnection): boolean {
    let link = this.links.get(conn.remote)
    // Our direct link is open: a circuit from the same peer is stale (or the remote lost its side, which our link learns soon).
    if (link !== undefined && link.state === 'open' && !(link.conn instanceof CircuitConnection) && link.conn !== undefined) return false
    // Both ends opened a circuit (each heard of the other's relays at another moment): the one
    // opened by the smaller id stays, as when both dial (glare); both ends decide alike.
    const mine = link === undefined ? undefined : [link.conn, link.alt].find((c) => c instanceof CircuitConnection && c.leg === 0)
    if (link !== undefined && mine !== undefined) {
      if (this.localId < conn.remote) return false
      mine.close()
      if (link.conn === mine) link.conn = undefined
      if (link.alt === mine) link.alt = undefined
    }
    if (link === undefined) {
      if (!this.makeRoom()) return false
      link = new Link(conn.remote, false, this.clock.now(), this.schedulerInit, this.pacing)
      this.links.set(conn.remote, link)
      this.ensureTicking()
      link.conn = conn
    } else {
      link.alt?.close()
      if (link.conn === undefined) link.conn = conn
      else link.alt = conn
    }
    const events = new LinkManager.Events(this, link)
    events.conn = conn
    conn.attach(events)
    return true
  }

  /** The link's smoothed RTT, or before the first probe a third of its setup time (ICE, DTLS and SCTP take about three round trips). */
  private rttEstimate(link: Link): number {
    return link.rtt.stats()?.srttMs ?? (link.openedAt >= 0 ? (link.openedAt - link.createdAt) / 3 : 1000)
  }

  private drained(link: Link): void {
    const now = this.clock.now()
    link.pump(now, true)
    if (this.relays === undefined) return
    // Circuits through this peer were held back by its queue: let them go on.
    for (const other of this.links.values()) {
      if (other !== link && other.conn instanceof CircuitConnection && other.conn.relay === link.remote) other.pump(now, true)
    }
  }

  private relayHost(): RelayHost {
    return {
      log: this.env.log,
      now: () => this.clock.now(),
      sendLink: (peer, type, payload, priority) => {
        const link = this.links.get(peer)
        if (link === undefined || link.state === 'closed') return false
        const now = this.clock.now()
        if (link.scheduler.enqueue(priority, encodeFrame(LINK_PROTO, type, payload), now) !== 'rejected') link.pump(now)
        return true
      },
      queuedTo: (peer) => {
        const link = this.links.get(peer)
        if (link === undefined) return 0
        // Only what waits in its queues: the transport's own buffer drains by itself and says so
        // (drained), but a circuit held back for bytes nobody queued would wait for the next send.
        let bytes = 0
        for (const cls of PRIORITIES) bytes += link.scheduler.queuedBytes(cls)
        return bytes
      },
      isOpen: (peer) => this.isOpen(peer),
      connect: (peer, via) => {
        if (!this.closed) this.connect(peer, via === undefined ? {} : { via })
      },
      acceptCircuit: (conn) => this.acceptCircuit(conn),
      homesChanged: () => {
        // Links still trying (or rerouting) whose remote heard of no relay of ours: tell them now.
        for (const link of this.links.values()) {
          const trying = link.state === 'connecting' || (link.state === 'open' && link.conn === undefined)
          if (!trying || link.conn instanceof CircuitConnection || link.alt instanceof CircuitConnection || link.reachSent.size === 0) continue
          link.reachSent.clear()
          this.routeSignal(link, { [META_KEY]: 1 })
        }
      },
      volunteers: () => {
        const out: { id: PeerId; rttMs: number; load: number }[] = []
        for (const link of this.links.values()) {
          const v = link.remoteVolunteer
          if (link.state !== 'open' || v === undefined || v[0] === 0 || link.conn instanceof CircuitConnection) continue
          out.push({ id: link.remote, rttMs: this.rttEstimate(link), load: v[1] / v[0] })
        }
        return out
      },
      rttMs: (peer) => {
        const link = this.links.get(peer)
        return link === undefined ? Infinity : this.rttEstimate(link)
      },
    }
  }

  /** At the cap, closes the least recently used link no protocol insists on. */
  private makeRoom(): boolean {
    if (this.links.size < this.init.maxLinks) return true
    const victim = this.collectable(0)[0]
    if (victim === undefined) return false
    this.stats.gcClosed++
    this.closeLink(victim, 'gc')
    return true
  }

  /** Open links idle for at least `idleMs` that no protocol insists on, least recently used first. */
  private collectable(idleMs: number): Link[] {
    const now = this.clock.now()
    const out: Link[] = []
    for (const link of this.links.values()) {
      if (link.state !== 'open' || now - link.lastUseAt < idleMs) continue
      if (this.insisted(link)) continue
      out.push(link)
    }
    return out.sort((a, b) => a.lastUseAt - b.lastUseAt)
  }

  private insisted(link: Link): boolean {
    for (const p of this.protocols) if (p.insists?.(link.remote) === true) return true
    return this.relays?.insists(link.remote) === true
  }

  private ensureTicking(): void {
    if (this.tickTimer !== undefined || this.closed) return
    const period = Math.max(50, Math.min(this.init.keepaliveMs, this.init.deadAfterMs) / 2)
    const linkTick = (): void => {
      this.tickTimer = undefined
      this.tick()
      if (this.links.size > 0) this.ensureTicking()
    }
    this.tickTimer = this.env.timers.setTimeout(linkTick, period)
  }

  private tick(): void {
    const now = this.clock.now()
    if (this.relays !== undefined && now - this.relaysTickAt >= 1000) {
      this.relaysTickAt = now
      this.updateReach()
      this.relays.tick(now)
    }
    for (const link of [...this.links.values()]) {
      if (link.circuitAt > 0 && now >= link.circuitAt && link.state !== 'closed') this.tryCircuit(link)
      if (link.state === 'connecting') {
        // A circuit on its way gets longer: it started after the direct attempt.
        const circuit = link.conn instanceof CircuitConnection || link.alt instanceof CircuitConnection
        if (now - link.createdAt > this.init.connectTimeoutMs * (circuit ? 2 : 1)) this.closeLink(link, 'connect-timeout')
        else if (link.conn instanceof CircuitConnection) continue
        else if (link.initiator && !link.answered && link.route === 'intro' && now - link.attemptAt > this.init.introTimeoutMs) {
          // The introduction went unanswered (a relay lost its link): dial again through the bootstrap node.
          this.env.log.debug('introduction unanswered, dialling through the node', { peer: link.remote, via: link.via })
          link.via = undefined
          link.route = undefined
          this.replaceConnection(link, true)
        }
      } else {
        const relayed = link.conn === undefined || link.conn instanceof CircuitConnection
        if (relayed && link.lostAt >= 0 && now - link.lostAt > REROUTE_MS) {
          this.closeLink(link, 'relay-lost')
          continue
        }
        if (link.alt !== undefined && !(link.alt instanceof CircuitConnection) && now - link.altAt > this.init.connectTimeoutMs) {
          // An upgrade attempt that never opened.
          const alt = link.alt
          alt.close()
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
        const dead = checkLiveness(link, now, relayed ? this.relayedInit : this.init, this.insisted(link))
        if (dead !== undefined) this.closeLink(link, dead)
      }
    }
    let open = 0
    for (const link of this.links.values()) if (link.state === 'open') open++
    if (open <= this.init.gcThreshold) return
    for (const link of this.collectable(this.init.gcIdleMs)) {
      if (open <= this.init.gcThreshold) break
      this.stats.gcClosed++
      this.closeLink(link, 'gc')
      open--
    }
  }
}
