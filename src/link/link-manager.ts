import { MAX_MESSAGE_BYTES, decodeFrame, encodeFrame, type Frame } from '../core/codec.js'
import { P2PError } from '../core/errors.js'
import type { PeerId } from '../core/id.js'
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
import { decodeNoRoute, decodeSignalRelay, encodeNoRoute, encodeSignalRelay, MAX_ROUTE_HOPS, relayStep } from './signal-relay.js'
import { LinkPaths, RELAYED_DEAD_EXTRA_MS, type PathsHost } from './link-paths.js'
import type { Reach } from './nat.js'
import { CircuitConnection, type RelayLayer } from './relay.js'
import { Penalties } from './peer-penalties.js'
import { receiveClass, resolveReceiveBudget, type ResolvedReceiveBudget } from './receive-budget.js'
import { PATH_KINDS, type Connection, type ConnectionEvents, type PathKind, type SignalData, type Transport } from './transport.js'

export type {
  ConnectResult, FrameCache, LinkManagerComponents, LinkManagerInit, LinkManagerStats, LinkProtocol, MessageHandler, SendResult, SignalingChannel,
} from './link-types.js'

/** Key under which the link layer tags signaling data with its connection attempt. */
const ATTEMPT_KEY = '_a'
export { MAX_ROUTE_HOPS }

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
    noRoute: 0,
    introFailed: 0,
    badFrames: 0,
    handlerErrors: 0,
    framesOverBudget: 0,
    linksClosedForFlood: 0,
    linksClosedForViolation: 0,
    reportedBad: 0,
    refusedIgnored: 0,
    gcClosed: 0,
    relayedLinks: 0,
    upgraded: 0,
    rerouted: 0,
    rerouteMsSum: 0,
    rerouteMsMax: 0,
    rerouteLost: 0,
  }
  /** The paths besides direct connections: circuits through relays (link-paths.ts, relay.ts). */
  private readonly paths: LinkPaths
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
  private readonly receive: ResolvedReceiveBudget
  /** Peers refused for a while after their link was closed for misbehaving. */
  private readonly penalties: Penalties
  private readonly links = new Map<PeerId, Link>()
  private readonly protocols: LinkProtocol[] = []
  private readonly handlers = new Map<number, MessageHandler>()
  private tickTimer: unknown = undefined
  /** When the last tick ran (a tick much later than its period means our timers are throttled). */
  private lastTickAt = -Infinity
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
    this.relayedInit = { ...this.init, deadAfterMs: this.init.deadAfterMs + RELAYED_DEAD_EXTRA_MS, suspectAfterMs: 0 }
    const { agingBoundMs, bounds, mode } = init
    this.schedulerInit = { agingBoundMs, bounds, mode }
    this.pacing = init
    this.receive = resolveReceiveBudget(init.receiveBudget)
    this.penalties = new Penalties(init.penalties)
    this.paths = new LinkPaths(this.pathsHost(), components.identity, init.relay, components.relayDirectory)
  }

  /** Relaying through peers, when the peer has an identity to authenticate circuits with. */
  get relays(): RelayLayer | undefined {
    return this.paths.relays
  }

  /** What this peer knows of its NAT and ICE servers (the transport's word). */
  get reach(): Reach {
    return this.paths.reach
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
    if (this.refuses(peer)) return 'limit'
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
    if (this.closed || from === this.localId || this.refuses(from)) return
    const attempt = typeof data[ATTEMPT_KEY] === 'number' ? (data[ATTEMPT_KEY] as number) : -1
    let link = this.links.get(from)
    let carried: Link | undefined = undefined
    // Reach alone, the alternate attempt's signals, an upgrade offer: the paths' own.
    if (this.paths.onSignal(link, initiator, attempt, data)) return
    if (!initiator) {
      // An answer (or a later candidate) for our attempt; anything for an older attempt is stale.
      if (link !== undefined && link.initiator && link.conn !== undefined && link.attempt === attempt && !(link.conn instanceof CircuitConnection)) {
        link.answered = true
        this.paths.readReach(link, data)
        link.conn.signal(data)
      }
      return
    }
    if (link !== undefined && link.attempt === attempt && !link.initiator) {
      link.conn?.signal(data) // more of the same attempt (trickled candidates)
      return
    }
    if (link !== undefined && link.initiator && link.state === 'connecting') {
      // Glare: both sides dialled. The smaller id stays the initiator.
      if (this.localId < from) return
      this.replaceConnection(link, false)
    } else if (link !== undefined && link.state === 'open') {
      // The remote lost its side (reload, timeout) and dials again: start afresh, but
      // what it misbehaved or sent over budget stays (a redial must not reset them).
      this.closeLink(link, 'redialled')
      carried = link
      link = undefined
    } else if (link !== undefined) {
      // A new attempt replaces one whose offer or answer was lost.
      this.replaceConnection(link, false)
    }
    if (link === undefined) {
      if (!this.makeRoom()) return
      link = this.createLink(from, false)
      if (carried !== undefined) {
        link.budget = carried.budget
        link.badFrames = carried.badFrames
      }
    }
    link.attempt = attempt
    link.via = via === null ? undefined : [...via]
    link.route = via === null ? 'signaling' : 'intro'
    this.paths.readReach(link, data)
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
    const link = new Link(peer, initiator, this.clock.now(), this.schedulerInit, this.pacing, this.receive)
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
      else if (this.link.alt === this.conn && this.conn !== undefined) this.manager.paths.onAltOpen(this.link)
    }
    onData(bytes: Uint8Array): void {
      if (this.current()) this.manager.onData(this.link, bytes)
    }
    onDrain(): void {
      if (this.link.conn === this.conn && this.conn !== undefined) this.manager.paths.drained(this.link)
    }
    onClose(reason: string): void {
      if (this.link.conn === this.conn && this.conn !== undefined) this.manager.paths.connClosed(this.link, reason)
      else if (this.link.alt === this.conn && this.conn !== undefined) this.manager.paths.altClosed(this.link, reason)
    }
  }

  private routeSignal(link: Link, raw: SignalData, alt = false): void {
    // Tag every signal with its attempt, so a retried or glared attempt never mixes with an old one.
    const attempt = alt ? link.altAttempt : link.attempt
    const initiator = alt ? link.altInitiator : link.initiator
    const data: SignalData = { ...raw, [ATTEMPT_KEY]: attempt }
    this.paths.tag(link, data, alt, initiator, attempt)
    const route = link.via ?? []
    // Our own signaling: the first hop knows it is ours from the link it comes over.
    const frame = encodeSignalRelay(link.remote, null, initiator, data, route)
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
    this.paths.rerouted(link)
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
    // A link a circuit carries is counted by the paths; a direct one by how it was signalled.
    if (!this.paths.opened(link, now)) {
      if (link.route === 'intro') this.stats.introduced++
      else this.stats.viaSignaling++
    }
    this.env.log.debug('link open', { peer: link.remote, route: link.route, path: link.conn?.path?.kind, ms: now - link.createdAt })
    this.relays?.onLinkOpen(link.remote)
    for (const p of this.protocols) p.onLinkOpen?.(link.remote)
    link.pump(now)
  }

  private onData(link: Link, bytes: Uint8Array): void {
    const now = this.clock.now()
    link.recvGapMs += (Math.min(now - link.lastRecvAt, 2000) - link.recvGapMs) / 8
    link.lastRecvAt = now
    link.bytesReceived += bytes.length
    link.framesReceived++
    // Before decoding: a flood costs us as little as we can make it.
    if (bytes.length > MAX_MESSAGE_BYTES) return this.bad(link)
    const cls = receiveClass(bytes)
    if (!link.budget.take(cls, bytes.length, now)) return this.overBudget(link, cls, bytes.length, now)
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
        return this.onSignalRelay(link, frame.payload)
      case LinkMsg.NO_ROUTE: {
        const no = decodeNoRoute(frame.payload)
        if (no === null) return this.bad(link)
        // Only from the introducer of the attempt still waiting for its answer (a stale one is no harm).
        const dial = this.links.get(no.to)
        if (dial !== undefined && dial.state === 'connecting' && dial.initiator && !dial.answered && dial.route === 'intro' && dial.via?.[0] === link.remote && dial.attempt === no.attempt && !(dial.conn instanceof CircuitConnection)) {
          this.introFailed(dial, 'introducer has no link to the peer, dialling through the node')
        }
        return
      }
      default:
        if (this.relays === undefined || link.state !== 'open' || !this.relays.onFrame(link.remote, frame.type, frame.payload)) return this.bad(link)
    }
  }

  private deliver(link: Link, frame: Frame, now: number): void {
    link.lastUseAt = now
    const handler = this.handlers.get(frame.proto * 256 + frame.type)
    if (handler === undefined) return this.bad(link)
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
  /** An introduction that cannot work: dial again through the bootstrap node (or fail there if it cannot reach the peer). */
  private introFailed(link: Link, why: string): void {
    this.env.log.debug(why, { peer: link.remote, via: link.via })
    this.stats.introFailed++
    link.via = undefined
    link.route = undefined
    this.replaceConnection(link, true)
  }

  private onSignalRelay(link: Link, payload: unknown): void {
    const relay = decodeSignalRelay(payload, this.localId, link.remote)
    if (relay === null) return this.bad(link)
    const step = relayStep(relay, this.localId, link.remote)
    if (step === 'bad') return this.bad(link)
    if (step.deliver) return this.receiveSignal(relay.from, relay.initiator, relay.data, step.route)
    const target = this.links.get(step.next)
    if (target === undefined || target.state === 'closed') {
      // A dialler that introduced itself through us alone hears at once that we cannot pass it on.
      if (relay.initiator && relay.route.length === 0) {
        const attempt = relay.data[ATTEMPT_KEY]
        this.stats.noRoute++
        link.scheduler.enqueue(Priority.MEDIUM, encodeNoRoute(relay.to, typeof attempt === 'number' && Number.isSafeInteger(attempt) ? attempt : -1), this.clock.now())
        link.pump(this.clock.now())
      }
      return
    }
    this.stats.relayed++
    const now = this.clock.now()
    // Passed on naming its origin; the target's own id only when it is not the next hop.
    const frame = encodeSignalRelay(step.next === relay.to ? null : relay.to, relay.from, relay.initiator, relay.data, relay.route)
    target.scheduler.enqueue(Priority.MEDIUM, frame, now)
    target.pump(now)
  }

  /**
   * A protocol's word that `peer` sent it a bad message (malformed, out of
   * place, a lie caught): counts like `weight` bad frames on its link, which
   * closes past maxBadFrames and the peer is ignored for a while.
   */
  misbehaved(peer: PeerId, weight = 1): void {
    const link = this.links.get(peer)
    if (link === undefined || link.state === 'closed' || !(weight > 0)) return
    this.stats.reportedBad += weight
    link.badFrames += weight
    this.misbehaving(link)
  }

  /** Whether `peer` is refused new links for misbehaving. */
  isIgnored(peer: PeerId): boolean {
    return this.penalties.ignores(peer, this.clock.now())
  }

  /** Every frame dropped counts towards closing its link: malformed, unknown, unhandled, over size. */
  private bad(link: Link): void {
    link.badFrames++
    this.stats.badFrames++
    this.misbehaving(link)
  }

  private misbehaving(link: Link): void {
    if (link.badFrames <= this.init.maxBadFrames) return
    this.stats.linksClosedForViolation++
    this.punish(link, 'protocol-violation')
  }

  private overBudget(link: Link, cls: Priority, size: number, now: number): void {
    this.stats.framesOverBudget++
    if (!link.budget.exceeded(cls, size, now)) return
    this.stats.linksClosedForFlood++
    this.punish(link, 'flood')
  }

  /** Closes a misbehaving peer's link and ignores the peer for a while. */
  private punish(link: Link, reason: string): void {
    const ms = this.penalties.punish(link.remote, this.clock.now())
    this.env.log.info('peer misbehaved: link closed, peer ignored', { peer: link.remote, reason, ms, badFrames: link.badFrames, overBudget: link.budget.dropped })
    this.closeLink(link, reason)
  }

  /** `peer` is ignored for misbehaving: no link to it now (counted). */
  private refuses(peer: PeerId): boolean {
    if (!this.penalties.ignores(peer, this.clock.now())) return false
    this.stats.refusedIgnored++
    return true
  }

  private closeLink(link: Link, reason: string): void {
    if (link.state === 'closed') return
    if (link.state === 'connecting' && reason !== 'shutdown') {
      const now = this.clock.now()
      const cause = link.conn?.failure?.()
      this.failures.record({ peer: link.remote, at: now, triedMs: now - link.createdAt, reason, route: link.route, cause }, this.env.log)
      this.paths.learnFrom(cause?.code ?? reason)
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
    if (wasOpen) this.relays?.onLinkClosed(link.remote, reason)
    for (const p of this.protocols) p.onLinkClosed?.(link.remote, reason)
  }

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

  /** What the paths (link-paths.ts) may do with the links. */
  private pathsHost(): PathsHost {
    return {
      localId: this.localId,
      log: this.env.log,
      transport: this.transport,
      links: this.links,
      stats: this.stats,
      init: this.init,
      now: () => this.clock.now(),
      closed: () => this.closed,
      closeLink: (link, reason) => this.closeLink(link, reason),
      onOpen: (link) => this.onOpen(link),
      openConnection: (link, initiator) => this.openConnection(link, initiator),
      routeSignal: (link, data, alt) => this.routeSignal(link, data, alt),
      makeRoom: (peer) => !this.refuses(peer) && this.makeRoom(),
      ensureTicking: () => this.ensureTicking(),
      nextAttempt: () => this.nextAttempt++,
      isOpen: (peer) => this.isOpen(peer),
      held: (peer) => this.insisting(peer).length > 0,
      connect: (peer, opts) => void this.connect(peer, opts.via === undefined ? {} : { via: opts.via }),
      events: (link) => new LinkManager.Events(this, link),
      newLink: (peer) => {
        const link = new Link(peer, false, this.clock.now(), this.schedulerInit, this.pacing, this.receive)
        this.links.set(peer, link)
        this.ensureTicking()
        return link
      },
    }
  }

  private tickPeriod(): number {
    return Math.max(50, Math.min(this.init.keepaliveMs, this.init.deadAfterMs) / 2)
  }

  private ensureTicking(): void {
    if (this.tickTimer !== undefined || this.closed) return
    const period = this.tickPeriod()
    const linkTick = (): void => {
      this.tickTimer = undefined
      this.tick()
      if (this.links.size > 0) this.ensureTicking()
    }
    this.tickTimer = this.env.timers.setTimeout(linkTick, period)
  }

  private tick(): void {
    const now = this.clock.now()
    // Our own timers ran late (a throttled tab, a long task): what we have not heard may be waiting in our queue.
    const onTime = now - this.lastTickAt <= 2 * this.tickPeriod()
    this.lastTickAt = now
    this.paths.tick(now)
    for (const link of [...this.links.values()]) {
      if (link.circuitAt > 0 && now >= link.circuitAt && link.state !== 'closed') this.paths.tryCircuit(link)
      this.paths.tickCircuits(link, now)
      if (link.state === 'closed') continue
      if (link.state === 'connecting') {
        // A circuit on its way gets longer: it started after the direct attempt.
        const circuit = link.conn instanceof CircuitConnection || link.alt instanceof CircuitConnection
        if (now - link.createdAt > this.init.connectTimeoutMs * (circuit ? 2 : 1)) this.closeLink(link, 'connect-timeout')
        else if (link.conn instanceof CircuitConnection) continue
        else if (link.initiator && !link.answered && link.route === 'intro' && now - link.attemptAt > this.init.introTimeoutMs) {
          // The introduction went unanswered (a relay lost its link, or crashed): dial again through the bootstrap node.
          this.introFailed(link, 'introduction unanswered, dialling through the node')
        }
      } else {
        if (this.paths.tickOpen(link, now)) continue
        const relayed = link.conn === undefined || link.conn instanceof CircuitConnection
        const dead = checkLiveness(link, now, relayed ? this.relayedInit : this.init, this.insisted(link), onTime)
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
