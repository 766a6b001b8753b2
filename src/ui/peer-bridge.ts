import type { PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import type { RelayLayer } from '../link/relay.js'
import type { Peer, PeerListener } from '../peer/peer.js'
import { DHT_SERVICE, type DhtService } from '../peer/dht-service.js'
import type { NetworkPeer } from '../platform/network-peer.js'
import { LocalDiagram, jitterOf } from '../von/geometry.js'
import type { JoinTimeline } from './join-timeline.js'
import type { MoveTrace } from './move-trace.js'
import { describeIce, iceSummary } from '../platform/ice-servers.js'
import { diagnose, FAILURE_WINDOW_MS, type ConnectionFacts } from './problems.js'
import { applyMoves, patchPlayer, type ConnectionState, type FailedLink, type InspectorState, type NeighbourEvent, type NeighbourKind, type WorldStores } from './stores.js'

/** DHT contacts listed in the inspector at most. */
const MAX_DHT_LISTED = 64
/** Failed connection attempts the page keeps showing (newest). */
const MAX_FAILED_SHOWN = 5
/** Failure causes that say something about the network (not a peer that left mid-dial). */
const NETWORK_CAUSES = new Set(['ice-failed', 'no-candidates', 'turn-refused'])

/** Names of the protocols that can insist on a link, as the inspector shows them. */
export type LinkProtocolName = 'von' | 'dht' | string

const PROTOCOL_NAMES: ReadonlyMap<number, LinkProtocolName> = new Map([
  [PROTOCOL.VON, 'von'], [PROTOCOL.KADEMLIA, 'dht'], [PROTOCOL.ASSETS, 'assets'], [PROTOCOL.CHAT, 'chat'], [PROTOCOL.PRESENCE, 'presence'],
])

/**
 * Carries what the peer knows into the stores: neighbour moves as they arrive
 * (stamped with the local receive time, for interpolation), and a few times a
 * second the connection figures, link states, what to tell the person, and,
 * while the inspector is open, the local Voronoi diagram and links.
 */
export class PeerBridge {
  readonly listener: PeerListener
  private net: NetworkPeer | undefined
  /** Enters, moves and leaves since the last flush, in arrival order. */
  private pending: NeighbourEvent[] = []
  private lastClose: { code: number; reason: string } | undefined
  private everLinked = false
  private hostsSince: number | undefined
  private badParameter: string | undefined
  private stepsBack = false

  constructor(
    private readonly stores: WorldStores,
    private readonly now: () => number,
    trace?: MoveTrace,
    timeline?: Pick<JoinTimeline, 'mark'>,
  ) {
    const moved = (id: PeerId, x: number, y: number, vx?: number, vy?: number): void => {
      trace?.received(id, x, y)
      this.pending.push(vx === undefined ? { id, t: this.now(), x, y } : { id, t: this.now(), x, y, vx, vy: vy ?? 0 })
    }
    this.listener = {
      onEnter: (id, x, y) => {
        timeline?.mark('first-neighbour')
        moved(id, x, y)
      },
      onMove: moved,
      onLeave: (id) => this.pending.push({ id, left: true }),
      onState: (state) => {
        if (state === 'joined') timeline?.mark('joined')
        if (state === 'idle' || state === 'closed') this.clearNeighbours()
        this.stores.connection.setState({ peerState: state })
      },
    }
  }

  get peer(): Peer | undefined {
    return this.net?.peer
  }

  attach(net: NetworkPeer | undefined): void {
    this.net = net
    if (net === undefined) this.clearNeighbours()
    else this.stepsBack = false
  }

  /** The page let go of its peer because the same player connected elsewhere (until the next attach). */
  replaced(): void {
    this.stepsBack = true
    this.attach(undefined)
  }

  /** URL parameters the page could not use (a line each): shown as a notice while all else is well. */
  setNotices(lines: readonly string[]): void {
    this.badParameter = lines.length === 0 ? undefined : lines.join(' ')
  }

  /** The node's socket closed with this code (1013: the node is full). */
  socketClosed(code: number, reason: string): void {
    this.lastClose = { code, reason }
  }

  /** Applies what was received since the last call, in order (call often: every frame or tick). */
  flush(): void {
    if (this.pending.length === 0) return
    const events = this.pending
    this.pending = []
    applyMoves(this.stores.neighbours, events)
  }

  /** Connection figures, link states and the problem to show (a few times a second). */
  poll(): void {
    const net = this.net
    const webrtcAvailable = typeof RTCPeerConnection !== 'undefined'
    if (net === undefined) {
      this.stores.connection.setState({ problem: diagnose({ ...this.facts(), webrtcAvailable }) })
      return
    }
    const { peer, signaling } = net
    const s = peer.stats()
    if (s.links.open > 0) this.everLinked = true
    const now = this.now()
    const servers = net.transport.iceServers
    const failed = peer.links.failures.since(now - FAILURE_WINDOW_MS)
    if (signaling.hosts.length > 0 && !this.everLinked) this.hostsSince ??= now
    const facts: ConnectionFacts = {
      ...this.facts(),
      webrtcAvailable,
      signaling: signaling.state,
      connects: signaling.stats.connects,
      peerState: s.state,
      hosts: signaling.hosts.length,
      linksOpen: s.links.open,
      unlinkedForMs: this.everLinked || this.hostsSince === undefined ? 0 : now - this.hostsSince,
      recentFailures: failed.map((f) => f.cause?.code ?? '').filter((c) => NETWORK_CAUSES.has(c)),
      ice: { ...iceSummary(servers), relayOnly: net.transport.relayOnly },
    }
    const dht = peer.service<DhtService>(DHT_SERVICE)
    const latency = moveLatency(peer)
    this.stores.connection.setState({
      signaling: signaling.state,
      connects: signaling.stats.connects,
      peerState: s.state,
      neighbours: s.neighbours,
      links: s.links,
      introduced: s.introduced,
      viaSignaling: s.viaSignaling,
      queues: s.queues.map((q) => ({ count: q.count, bytes: q.bytes })),
      moveLatencyMs: latency?.p50Ms,
      moveLatencyP95Ms: latency?.p95Ms,
      joinMs: s.joinMs,
      rejoins: s.rejoins,
      dhtContacts: dht?.dht.table.size,
      problem: diagnose(facts),
      services: peer.services.map((x) => x.name),
      paths: peer.links.pathCounts(),
      relay: relaySummary(peer.links.relays),
      ice: { summary: `${describeIce(servers)}${net.transport.relayOnly ? ' · relay only' : ''}`, source: net.iceSource() },
      failedLinks: failed.slice(-MAX_FAILED_SHOWN).map((f): FailedLink => ({
        peer: f.peer, code: f.cause?.code ?? f.reason, reason: f.reason, detail: f.cause?.detail, at: f.at,
      })),
    })
    this.stores.self.setState({ aoi: peer.von.aoi, joined: s.state === 'joined' })
    for (const id of this.stores.neighbours.getState().players.keys()) {
      patchPlayer(this.stores.neighbours, id, { linkOpen: peer.links.isOpen(id as PeerId), path: peer.links.link(id as PeerId)?.conn?.path?.kind })
    }
    if (this.stores.inspector.getState().open) this.stores.inspector.setState(inspect(peer))
  }

  private facts(): ConnectionFacts {
    const c = this.stores.connection.getState()
    return {
      webrtcAvailable: true, signalingUrl: c.signalingUrl, signaling: 'idle', connects: 0, lastClose: this.lastClose,
      peerState: 'idle', hosts: 0, linksOpen: 0, everLinked: this.everLinked, unlinkedForMs: 0,
      recentFailures: [], ice: { stun: 0, turn: 0 }, replaced: this.stepsBack, ...(this.badParameter === undefined ? {} : { badParameter: this.badParameter }),
    }
  }

  private clearNeighbours(): void {
    this.pending = []
    const players = this.stores.neighbours.getState().players
    if ([...players.values()].some((p) => !p.fake)) {
      this.stores.neighbours.setState({ players: new Map([...players].filter(([, p]) => p.fake)) })
    }
  }
}

/** The protocols that keep the link to `id`: what link GC would hear if it asked now. */
export function insistingProtocols(peer: Peer, id: PeerId): LinkProtocolName[] {
  return peer.links.insisting(id).map((p) => PROTOCOL_NAMES.get(p) ?? `protocol ${p}`)
}

/**
 * One-way move latency (ms) to the VON neighbours: half the round trip of the
 * link layer's probes, which travel HIGH like moves and so wait behind the same
 * queue (bulk fragments included). Percentiles pool each neighbour link's recent
 * raw samples, so a burst of queueing shows in p95 rather than being smoothed
 * away. Assumes symmetric paths; a round trip also counts the remote's event
 * loop once, which a move meets too (its handler runs there).
 */
export function moveLatency(peer: Peer): { p50Ms: number; p95Ms: number; links: number } | undefined {
  const rtt = peer.links.rttSummary(peer.von.table.keys())
  return rtt === undefined ? undefined : { p50Ms: rtt.p50Ms / 2, p95Ms: rtt.p95Ms / 2, links: rtt.links }
}

/** A snapshot of the overlay for the inspector: cells, neighbour kinds, links, DHT contacts, queues. */
export function inspect(peer: Peer): Omit<InspectorState, 'open'> {
  const von = peer.von
  const self = { id: peer.id as string, x: von.x, y: von.y, ...jitterOf(peer.id) }
  const neighbours = [...von.table.values()]
  const sites = [self, ...neighbours.map((n) => ({ id: n.id as string, x: n.x, y: n.y, jx: n.jx, jy: n.jy }))]
  const diagram = new LocalDiagram(sites)
  const cells = sites.map((s, i) => ({ id: s.id, poly: diagram.cell(i).map(([x, y]) => ({ x, y })) }))
  const dht = peer.service<DhtService>(DHT_SERVICE)?.dht
  const dhtIds = new Set<string>()
  const dhtContacts: InspectorState['dhtContacts'][number][] = []
  if (dht !== undefined) {
    for (const c of dht.table.closest(dht.table.self, MAX_DHT_LISTED)) {
      dhtIds.add(c.id)
      dhtContacts.push({ id: c.id, bucket: c.bucket, linked: peer.links.isOpen(c.id) })
    }
  }
  const marks = neighbours.map((n) => {
    const kinds: NeighbourKind[] = []
    if (von.isEnclosing(n.id)) kinds.push('enclosing')
    if (von.isBoundary(n.id)) kinds.push('boundary')
    if ((n.x - von.x) ** 2 + (n.y - von.y) ** 2 <= von.aoi ** 2) kinds.push('aoi')
    if (kinds.length === 0) kinds.push('other')
    return { id: n.id as string, x: n.x, y: n.y, kinds, dht: dhtIds.has(n.id) }
  })
  const links = [...peer.links.openPeers()].map((id) => {
    const n = von.table.get(id)
    const q = peer.links.queueStats(id)
    return {
      id: id as string, x: n?.x, y: n?.y, protocols: insistingProtocols(peer, id), queues: q === undefined ? [0, 0, 0] : q.map((c) => c.count),
      path: peer.links.link(id)?.conn?.path?.kind,
    }
  })
  const queues = peer.links.totalQueueStats().map((q) => ({ count: q.count, bytes: q.bytes }))
  return { cells, marks, links, dhtContacts, queues }
}

/** What the HUD says of relaying through peers. */
function relaySummary(relays: RelayLayer | undefined): ConnectionState['relay'] {
  if (relays === undefined) return { homes: 0, serving: undefined, tampered: 0 }
  return { homes: relays.homeRelays().length, serving: relays.relaying ? relays.stats.circuitsNow : undefined, tampered: relays.stats.tampered }
}
