import type { Timers } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import type { LinkManager, SignalingChannel } from '../link/link-manager.js'
import type { SignalData } from '../link/transport.js'

/** What signaling is delivered to: a peer's LinkManager. */
export type SignalReceiver = Pick<LinkManager, 'receiveSignal'>

/**
 * An in-process stand-in for the signaling node, for tests and benchmarks that
 * need real WebRTC links but not a WebSocket server: it relays signaling between
 * attached peers on the next timer tick, and can be taken down.
 */
export class LoopbackSignaling {
  up = true
  relayed = 0
  private readonly peers = new Map<PeerId, SignalReceiver>()

  constructor(private readonly timers: Timers) {}

  attach(id: PeerId, receiver: SignalReceiver): SignalingChannel {
    this.peers.set(id, receiver)
    return { send: (to, initiator, data) => this.relay(id, to, initiator, data) }
  }

  detach(id: PeerId): void {
    this.peers.delete(id)
  }

  private relay(from: PeerId, to: PeerId, initiator: boolean, data: SignalData): boolean {
    if (!this.up || !this.peers.has(from)) return false
    this.timers.setTimeout(() => {
      const target = this.peers.get(to)
      if (!this.up || target === undefined) return
      this.relayed++
      target.receiveSignal(from, initiator, data, null)
    }, 0)
    return true
  }
}
