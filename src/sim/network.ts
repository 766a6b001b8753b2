import type { PeerId } from '../core/id.js'
import { iceOutcome, type NatClass } from '../link/nat.js'
import type { PathKind, Transport } from '../link/transport.js'
import { SharedFrames } from './frame-cache.js'
import { SimConnection } from './sim-connection.js'
import type { SeededRng } from './rng.js'
import { RecordKind, type ShardPort } from './shard-bus.js'
import type { TrafficCounter } from './traffic.js'
import type { Simulator } from './simulator.js'

/** Where a simulated peer sits and what its access link can carry. */
export interface SimNodeSpec {
  /** Position in a latency plane, in ms: one-way latency includes the Euclidean distance. */
  x: number
  y: number
  /** One-way delay of this node's access link, added to every message to or from it. @default 0 */
  accessMs?: number
  /** Uplink rate; 0 means unlimited. @default 0 */
  upBytesPerSec?: number
  /** Downlink rate; 0 means unlimited. @default 0 */
  downBytesPerSec?: number
  /**
   * How the peer's NAT treats UDP (see nat.ts): with SimNetworkInit.ice it
   * decides whether a link to another peer opens, and by which path.
   * @default 'open'
   */
  nat?: SimNat
}

/** A NAT class the simulator can give a peer (measured, never 'unknown'). */
export type SimNat = Exclude<NatClass, 'unknown'>

/** The ICE servers every simulated peer is given. */
export interface SimIceInit {
  /** A STUN server: NATed peers learn their mapped address (srflx). @default true */
  stun?: boolean
  /** A TURN server: a pair that no direct candidate pair connects is relayed. @default false */
  turn?: boolean
  /**
   * Extra one-way delay of a TURN-relayed path over the direct one. The relay
   * sits in a data centre, not on the line between the peers, so packets take
   * a detour; 20 ms one way is our judgement for a relay in a region near the
   * peers (one more leg of a metro/regional round trip), not a measured figure.
   * Set it higher to model a far or overloaded relay.
   * @default 20
   */
  turnExtraMs?: number
  /**
   * Bytes of SDP each offer and answer carries (padding the protocol passes
   * on unread), to count link setup as a browser pays it: an SDP offer or
   * answer for one data channel is several hundred bytes, and trickled ICE
   * candidates add about a hundred each. 0: the simulator's dozen bytes.
   * @default 0
   */
  sdpBytes?: number
}

export interface SimNetworkInit {
  /** Extra one-way delay, uniform in [0, jitterMs); delivery stays in order per link. @default 0 */
  jitterMs?: number
  /** Per-packet loss; the reliable channel recovers each loss after one RTT. @default 0 */
  lossRate?: number
  /**
   * User data per packet: messages are cut into packets of this size. Chromium's
   * SCTP MTU is 1191 bytes, less 12 (common header) and 16 (DATA chunk header).
   * @default 1163
   */
  packetPayloadBytes?: number
  /**
   * Headers per packet charged on the wire: SCTP 28, DTLS 1.2 with AES-GCM 37
   * (record 13, nonce 8, tag 16), UDP 8, IPv4 20.
   * @default 93
   */
  packetOverheadBytes?: number
  /** Round trips after the answer arrives before the link opens (ICE, DTLS, SCTP). @default 3 */
  setupRtts?: number
  /** Fixed connection setup cost (certificate, candidate gathering). @default 30 */
  setupFixedMs?: number
  /** Mix every delivered message's bytes into the trace hash (slower). @default false */
  traceMessages?: boolean
  /** STUN and TURN servers, for the ICE outcome of each pair of NAT classes (iceOutcome). */
  ice?: SimIceInit
  /**
   * How long the connectivity checks of a pair that cannot connect run before
   * each end reports `ice-failed`, from when that end has the other's
   * candidates. libwebrtc marks a pair that never answered unwritable after
   * 5 s (CONNECTION_WRITE_CONNECT_TIMEOUT) but gives it up only after its
   * ice_inactive_timeout, CONNECTION_WRITE_TIMEOUT = 15 s; the transport fails
   * when no pair is left. (The link layer's connectTimeoutMs, 10 s, usually
   * gives up first, as in a browser, and asks failure() why.)
   * @default 15000
   */
  iceFailMs?: number
}

/** SimNetworkInit with every default filled in. */
export type SimNetworkConfig = Required<Omit<SimNetworkInit, 'ice'>> & { readonly ice: Required<SimIceInit> }

/** Per-node traffic counters. `bytes` are our frames; `wire` adds packet headers. */
export interface SimNodeStats {
  messagesSent: number
  messagesReceived: number
  bytesSent: number
  bytesReceived: number
  wireBytesSent: number
  wireBytesReceived: number
}

/**
 * A node of the network. The counters and link rates every message reads are
 * fields of the node itself (`stats` is the node), so a send or a delivery
 * touches one object for them: at thousands of nodes each extra one is a
 * cache miss.
 */
export interface SimNode extends SimNodeStats {
  readonly id: PeerId
  readonly index: number
  /** The shard that runs this node (0 when the world is not split). */
  readonly shard: number
  readonly spec: Required<SimNodeSpec>
  /** `spec.upBytesPerSec` and `spec.downBytesPerSec`. */
  readonly upBytesPerSec: number
  readonly downBytesPerSec: number
  upFreeAt: number
  downFreeAt: number
  crashed: boolean
  readonly conns: Set<SimConnection>
  /** The node's traffic counters: the node itself. */
  readonly stats: SimNodeStats
  /** What it sends by message type, while a run measures it (set by the run). */
  traffic: TrafficCounter | undefined
}

/**
 * The simulated network: latency from coordinates plus jitter, serialisation at
 * each node's up- and downlink rate (so `bufferedAmount` and queueing are real),
 * loss recovered by retransmission, partitions, crashes, and the real cost of
 * setting up a link (signaling round trip plus ICE/DTLS round trips).
 */
export class SimNetwork {
  readonly init: SimNetworkConfig
  readonly rng: SeededRng
  private readonly nodes = new Map<PeerId, SimNode>()
  private readonly conns = new Map<number, SimConnection>()
  private nextConnId = 1
  private blocked: ((a: PeerId, b: PeerId) => boolean) | undefined
  /** Where records for other shards go, when the world is split. */
  port: ShardPort | undefined
  /** One decode per broadcast for the peers of this network (see SharedFrames); connections count the receivers. */
  readonly frames = new SharedFrames()

  constructor(
    readonly sim: Simulator,
    init: SimNetworkInit = {},
  ) {
    this.init = {
      jitterMs: init.jitterMs ?? 0,
      lossRate: init.lossRate ?? 0,
      packetPayloadBytes: init.packetPayloadBytes ?? 1163,
      packetOverheadBytes: init.packetOverheadBytes ?? 93,
      setupRtts: init.setupRtts ?? 3,
      setupFixedMs: init.setupFixedMs ?? 30,
      traceMessages: init.traceMessages ?? false,
      ice: { stun: init.ice?.stun ?? true, turn: init.ice?.turn ?? false, turnExtraMs: init.ice?.turnExtraMs ?? 20, sdpBytes: init.ice?.sdpBytes ?? 0 },
      iceFailMs: init.iceFailMs ?? 15_000,
    }
    this.rng = sim.rng('network')
  }

  /** This shard (0 when the world is not split). */
  get shard(): number {
    return this.port?.shard ?? 0
  }

  /** The shard that owns connection id `cid`. */
  shardOfConnection(cid: number): number {
    return this.port === undefined ? 0 : cid % this.port.shards
  }

  /**
   * A node another shard runs: known here by position and access link (latency
   * is computed from both ends), never by connection.
   */
  addRemoteNode(id: PeerId, spec: SimNodeSpec, shard: number): void {
    if (shard === this.shard) throw new Error('invariant: a remote node on this shard')
    this.makeNode(id, spec, shard)
  }

  /** Adds a peer and returns its transport. */
  addNode(id: PeerId, spec: SimNodeSpec): Transport {
    const node = this.makeNode(id, spec, this.shard)
    return {
      open: (remote, initiator, events) => {
        const shards = this.port?.shards ?? 1
        const conn = new SimConnection(this, node, remote, initiator, events, this.nextConnId++ * shards + this.shard)
        if (!node.crashed) {
          this.conns.set(conn.cid, conn)
          node.conns.add(conn)
          conn.start()
        }
        return conn
      },
      reach: () => ({ nat: node.spec.nat, turn: this.init.ice.turn }),
    }
  }

  /** A record from another shard for one of our connections (gone: dropped, as a closed socket would). */
  applyRecord(kind: number, time: number, cid: number, bytes: Uint8Array): void {
    const conn = this.conns.get(cid)
    if (conn === undefined) return
    if (kind === RecordKind.DATA) {
      this.frames.arrived(bytes)
      conn.arriveAt(time, bytes)
    } else if (kind === RecordKind.OPENED) this.sim.at(time, () => conn.opened())
    else if (kind === RecordKind.CLOSED) this.sim.at(time, () => conn.remoteClosed())
  }

  private makeNode(id: PeerId, spec: SimNodeSpec, shard: number): SimNode {
    if (this.nodes.has(id)) throw new Error(`invariant: node ${id.slice(0, 8)} added twice`)
    const full: Required<SimNodeSpec> = { accessMs: 0, upBytesPerSec: 0, downBytesPerSec: 0, ...spec, nat: spec.nat ?? 'open' }
    const node = {
      id,
      index: this.nodes.size,
      shard,
      spec: full,
      upBytesPerSec: full.upBytesPerSec,
      downBytesPerSec: full.downBytesPerSec,
      upFreeAt: 0,
      downFreeAt: 0,
      crashed: false,
      conns: new Set<SimConnection>(),
      messagesSent: 0,
      messagesReceived: 0,
      bytesSent: 0,
      bytesReceived: 0,
      wireBytesSent: 0,
      wireBytesReceived: 0,
      traffic: undefined,
    } as Omit<SimNode, 'stats'> & { stats: SimNodeStats }
    node.stats = node
    this.nodes.set(id, node)
    return node
  }

  node(id: PeerId): SimNode | undefined {
    return this.nodes.get(id)
  }

  connection(cid: number): SimConnection | undefined {
    return this.conns.get(cid)
  }

  forget(conn: SimConnection): void {
    this.conns.delete(conn.cid)
    conn.local.conns.delete(conn)
  }

  /** The node stops: its connections go silent and remotes learn only by timeout. */
  crash(id: PeerId): void {
    const node = this.nodes.get(id)
    if (node === undefined || node.crashed) return
    node.crashed = true
    for (const conn of [...node.conns]) conn.die()
  }

  /**
   * Blocks traffic between every pair for which `blocked` returns true; undefined
   * heals. Data sent across the cut is held (a reliable channel retransmits) and
   * delivered on healing, unless a side gives up on the link first.
   */
  setPartition(blocked: ((a: PeerId, b: PeerId) => boolean) | undefined): void {
    this.blocked = blocked
    for (const conn of [...this.conns.values()]) conn.resume()
  }

  /** Splits the network into groups; peers in different groups cannot reach each other. */
  partition(groups: readonly (readonly PeerId[])[]): void {
    const groupOf = new Map<PeerId, number>()
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)))
    this.setPartition((a, b) => {
      const ga = groupOf.get(a)
      const gb = groupOf.get(b)
      return ga !== undefined && gb !== undefined && ga !== gb
    })
  }

  /** Whether a partition separates a and b (crashes aside). */
  blocks(a: PeerId, b: PeerId): boolean {
    return this.blocked !== undefined && this.blocked(a, b)
  }

  reachable(a: PeerId, b: PeerId): boolean {
    const na = this.nodes.get(a)
    const nb = this.nodes.get(b)
    if (na === undefined || nb === undefined || na.crashed || nb.crashed) return false
    return this.blocked === undefined || !this.blocked(a, b)
  }

  /**
   * ICE's outcome for a link between two nodes (known here, this shard's or
   * another's, so both ends of a split link compute the same): the kind of
   * path it takes, or 'fail'.
   */
  outcome(a: PeerId, b: PeerId): PathKind | 'fail' {
    const na = this.nodes.get(a)
    const nb = this.nodes.get(b)
    if (na === undefined || nb === undefined) return 'fail'
    return iceOutcome(na.spec.nat, nb.spec.nat, this.init.ice)
  }

  /** Base one-way latency between two nodes, without jitter (ms). */
  oneWayMs(a: PeerId, b: PeerId): number {
    const na = this.nodes.get(a)
    const nb = this.nodes.get(b)
    if (na === undefined || nb === undefined) return 0
    return na.spec.accessMs + nb.spec.accessMs + Math.hypot(na.spec.x - nb.spec.x, na.spec.y - nb.spec.y)
  }

  /** One-way latency from a node to a point of the latency plane (a server). */
  oneWayToPointMs(id: PeerId, x: number, y: number, accessMs: number): number {
    const n = this.nodes.get(id)
    if (n === undefined) return 0
    return n.spec.accessMs + accessMs + Math.hypot(n.spec.x - x, n.spec.y - y)
  }

  /** Bytes a message of `size` occupies on the wire, packet headers included. */
  wireBytes(size: number): number {
    const packets = Math.max(1, Math.ceil(size / this.init.packetPayloadBytes))
    return size + packets * this.init.packetOverheadBytes
  }

  /** Extra delay from losses recovered by retransmission (one RTT each). */
  lossDelayMs(wire: number, rttMs: number): number {
    const p = this.init.lossRate
    if (p <= 0) return 0
    const packets = Math.max(1, Math.ceil(wire / (this.init.packetPayloadBytes + this.init.packetOverheadBytes)))
    const pAny = 1 - Math.pow(1 - p, packets)
    let extra = 0
    for (let i = 0; i < 16 && this.rng.next() < pAny; i++) extra += rttMs
    return extra
  }

  jitterMs(): number {
    return this.init.jitterMs > 0 ? this.rng.next() * this.init.jitterMs : 0
  }
}
