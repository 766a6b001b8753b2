import type { KeyValueStore } from '../../core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../../core/id.js'
import { Peer, type BootstrapNode, type PeerInit, type PeerListener } from '../../peer/peer.js'
import { MemoryStore } from '../../platform/memory-store.js'
import type { SimNodeSpec } from '../network.js'
import { createSimEnv, type SimPeerEnv } from '../sim-env.js'
import { SimWorld, type SimWorldInit } from '../world.js'

export interface WorldPeer {
  readonly peer: Peer
  readonly env: SimPeerEnv
  readonly store: KeyValueStore
}

export interface AddPeerOptions {
  init?: PeerInit
  /** Where the peer sits in the latency plane and its access link. @default a random spot within 40 ms, 5 ms access */
  net?: Partial<SimNodeSpec>
  store?: KeyValueStore
  /** What the game would hear: neighbours entering, moving, leaving. */
  listener?: PeerListener
}

/**
 * Whole Peers (links, VON, services) in the simulator, each with a bootstrap
 * node whose host cache lists the other peers (at most 8, newest first): for
 * tests of peer services.
 */
export class PeerWorld {
  readonly w: SimWorld
  readonly members: WorldPeer[] = []
  private readonly place

  constructor(init: SimWorldInit) {
    this.w = new SimWorld(init)
    this.place = this.w.sim.rng('place')
  }

  get sim(): SimWorld['sim'] {
    return this.w.sim
  }

  /** Adds a peer and joins it at (x, y). */
  add(x: number, y: number, opts: AddPeerOptions = {}): WorldPeer {
    const w = this.w
    const rng = w.sim.rng(`peer:${this.members.length}`)
    const store = opts.store ?? new MemoryStore()
    const env = createSimEnv(w.sim, { rng, crypto: w.crypto, store })
    const keyPair = w.crypto.keyPairFromSeed(rng.bytes(32))
    const id = peerIdFromPublicKey(w.crypto, keyPair.publicKey)
    const transport = w.net.addNode(id, { x: this.place.next() * 40, y: this.place.next() * 40, accessMs: 5, ...opts.net })
    const box: { peer?: Peer } = {}
    const channel = w.signaling.attach(id, { receiveSignal: (from, i, d, via) => box.peer!.links.receiveSignal(from, i, d, via) })
    const members = this.members
    const node: BootstrapNode = {
      get state() {
        return w.signaling.up ? 'joined' : 'backoff'
      },
      get hosts(): PeerId[] {
        const live = members.filter((m) => m.peer.id !== id && m.peer.state !== 'closed' && m.peer.state !== 'idle')
        return live.map((m) => m.peer.id).slice(-8)
      },
      refreshHosts: () => w.signaling.up,
      send: (to, initiator, data) => channel.send(to, initiator, data),
    }
    const peer = new Peer({ env, keyPair, transport, node, ...(opts.listener === undefined ? {} : { listener: opts.listener }) }, { von: { aoiRadius: 150 }, link: { strict: true }, ...opts.init })
    box.peer = peer
    const m: WorldPeer = { peer, env, store }
    this.members.push(m)
    peer.join(x, y)
    return m
  }

  /**
   * Runs virtual time in steps of `stepMs`, letting promises (stores, fetches)
   * settle between steps, until `done()` or `maxMs` of virtual time passed.
   */
  async runAsync(done: () => boolean, maxMs: number, stepMs = 50): Promise<void> {
    const end = this.sim.now + maxMs
    while (!done() && this.sim.now < end) {
      await new Promise((r) => setImmediate(r))
      this.sim.runUntil(Math.min(end, this.sim.now + stepMs))
    }
    await new Promise((r) => setImmediate(r))
  }
}
