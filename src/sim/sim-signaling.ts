import type { PeerId } from '../core/id.js'
import type { JoinTicket, JoinTickets, TicketChecker, TicketIssuer } from '../von/join-tickets.js'
import type { SignalingChannel } from '../link/link-manager.js'
import type { SignalData } from '../link/transport.js'
import type { SimNetwork } from './network.js'
import { RecordKind } from './shard-bus.js'

/** What the bootstrap node delivers signaling to: a peer's LinkManager. */
export interface SignalReceiver {
  receiveSignal(from: PeerId, initiator: boolean, data: SignalData, via: readonly PeerId[] | null): void
  /** The node could not deliver our signaling to `to` (as the real node's 'unknown-peer' error). */
  signalFailed?(to: PeerId, reason: string): void
}

export interface SimSignalingInit {
  /** The node's position in the latency plane (ms). @default 0, 0 */
  x?: number
  y?: number
  /** @default 5 */
  accessMs?: number
}

/**
 * The bootstrap signaling node in the simulator: relays signaling between two
 * attached peers with the latency of both legs, and can be taken down to show
 * the world keeps working on introductions alone.
 */
export class SimSignalingServer {
  up = true
  relayed = 0
  private readonly peers = new Map<PeerId, SignalReceiver>()
  private readonly x: number
  private readonly y: number
  private readonly accessMs: number
  /** Signs join tickets (see join-tickets.ts); undefined: this node issues none. */
  tickets: TicketIssuer | undefined

  constructor(
    private readonly net: SimNetwork,
    init: SimSignalingInit = {},
  ) {
    this.x = init.x ?? 0
    this.y = init.y ?? 0
    this.accessMs = init.accessMs ?? 5
  }

  /** Registers a peer and returns the channel its LinkManager signals through. */
  attach(id: PeerId, receiver: SignalReceiver): SignalingChannel {
    this.peers.set(id, receiver)
    return {
      send: (to, initiator, data) => this.relay(id, to, initiator, data),
    }
  }

  detach(id: PeerId): void {
    this.peers.delete(id)
  }

  /**
   * Signaling relayed for a peer of this shard by the node (which is in every
   * shard's picture of the world: `up` is set on all of them alike).
   */
  applyRecord(time: number, bytes: Uint8Array): void {
    const { from, to, initiator, data } = JSON.parse(new TextDecoder().decode(bytes)) as { from: PeerId; to: PeerId; initiator: boolean; data: SignalData }
    this.net.sim.at(time, () => this.deliver(from, to, initiator, data))
  }

  private relay(from: PeerId, to: PeerId, initiator: boolean, data: SignalData): boolean {
    if (!this.up || !this.peers.has(from) || this.net.node(from)?.crashed === true) return false
    const delay = this.legMs(from) + this.legMs(to)
    const toNode = this.net.node(to)
    const port = this.net.port
    if (port !== undefined && toNode !== undefined && toNode.shard !== port.shard && !toNode.crashed) {
      const bytes = new TextEncoder().encode(JSON.stringify({ from, to, initiator, data }))
      port.post(toNode.shard, RecordKind.SIGNAL, this.net.sim.now + delay, 0, bytes)
      return true
    }
    const there = this.peers.get(to) !== undefined && toNode?.crashed !== true
    if (!there) {
      // The node answers at once that it does not know the target.
      this.net.sim.after(2 * this.legMs(from), () => this.peers.get(from)?.signalFailed?.(to, 'unknown-peer'))
      return true
    }
    this.net.sim.after(delay, () => this.deliver(from, to, initiator, data))
    return true
  }

  /**
   * A join ticket for `from` at (x, y), a round trip to the node later:
   * undefined while the node is down, and when it refuses (too far from the
   * id's last ticket, or too soon after it).
   */
  ticket(from: PeerId, x: number, y: number, done: (ticket: JoinTicket | undefined) => void): void {
    const issued = this.up && this.tickets !== undefined && this.net.node(from)?.crashed !== true ? this.tickets.issue(from, x, y) : undefined
    this.net.sim.after(2 * this.legMs(from), () => done(typeof issued === 'object' ? issued : undefined))
  }

  /** Peer `id`'s join tickets: asked of this node, others' checked with `checker` (one for this node's key). */
  joinTickets(id: PeerId, checker: TicketChecker): JoinTickets {
    return {
      fetch: (x, y, done) => this.ticket(id, x, y, done),
      required: () => this.up,
      covers: (joiner, ticket, x, y, rules) => checker.covers(joiner, ticket, x, y, rules),
      fresh: (ticket, got, x, y, rules) => checker.fresh(ticket, got, x, y, rules),
    }
  }

  private deliver(from: PeerId, to: PeerId, initiator: boolean, data: SignalData): void {
    const target = this.peers.get(to)
    if (!this.up || target === undefined || this.net.node(to)?.crashed === true) return
    this.relayed++
    target.receiveSignal(from, initiator, data, null)
  }

  private legMs(id: PeerId): number {
    return this.net.oneWayToPointMs(id, this.x, this.y, this.accessMs)
  }
}
