import type { KeyPair } from '../core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../core/id.js'
import { LinkManager, type LinkManagerInit } from '../link/link-manager.js'
import type { RelayDirectory } from '../link/relay.js'
import { NodeCrypto } from '../platform/node/node-crypto.js'
import { SimNetwork, type SimNetworkInit, type SimNodeSpec } from './network.js'
import { createSimEnv, type SimPeerEnv } from './sim-env.js'
import { SimSignalingServer, type SimSignalingInit } from './sim-signaling.js'
import { Simulator } from './simulator.js'

export interface SimWorldInit {
  seed: string | number
  network?: SimNetworkInit
  signaling?: SimSignalingInit
  /** Defaults for every peer's LinkManager (strict: handler errors surface). */
  link?: LinkManagerInit
}

/** A simulated peer at the link level: identity, Env and LinkManager. */
export interface SimLinkPeer {
  readonly index: number
  readonly id: PeerId
  readonly keyPair: KeyPair
  readonly env: SimPeerEnv
  readonly links: LinkManager
}

/**
 * One simulated world: kernel, network, bootstrap node and a crypto shared by
 * every peer (its verify cache is pure). Peers derive identity and randomness
 * from the world seed and their index, so a seed reproduces the whole run.
 */
export class SimWorld {
  readonly sim: Simulator
  readonly net: SimNetwork
  readonly signaling: SimSignalingServer
  readonly crypto = new NodeCrypto({ verifyCacheSize: 100_000 })
  readonly peers: SimLinkPeer[] = []
  /** Peers added so far, this shard's and others' (the next peer's index). */
  private added = 0
  private readonly linkInit: LinkManagerInit
  /** Where a peer finds relays beyond its links (a model of the DHT's provider records; see von-shard). */
  relayDirectory: ((id: PeerId) => RelayDirectory | undefined) | undefined

  constructor(init: SimWorldInit) {
    this.sim = new Simulator({ seed: init.seed })
    this.net = new SimNetwork(this.sim, init.network)
    this.signaling = new SimSignalingServer(this.net, init.signaling)
    this.linkInit = { strict: true, ...init.link }
  }

  addPeer(spec: SimNodeSpec, link: LinkManagerInit = {}): SimLinkPeer {
    const { index, rng, keyPair, id } = this.nextIdentity()
    const env = createSimEnv(this.sim, { rng, crypto: this.crypto })
    const transport = this.net.addNode(id, spec)
    let manager: LinkManager | undefined = undefined
    const signaling = this.signaling.attach(id, {
      receiveSignal: (from, initiator, data, via) => manager?.receiveSignal(from, initiator, data, via),
      signalFailed: (to, reason) => manager?.signalFailed(to, reason),
    })
    const identity = { keyPair, crypto: this.crypto, rng: env.rng }
    manager = new LinkManager({ env, localId: id, transport, signaling, frameCache: this.net.frames, identity, relayDirectory: this.relayDirectory?.(id) }, { ...this.linkInit, ...link })
    const peer: SimLinkPeer = { index, id, keyPair, env, links: manager }
    this.peers.push(peer)
    return peer
  }

  /**
   * A peer another shard runs: the same identity as there (it derives from the
   * seed and the index), known here by its node only. Returns its id.
   */
  addRemotePeer(spec: SimNodeSpec, shard: number): PeerId {
    const { id } = this.nextIdentity()
    this.net.addRemoteNode(id, spec, shard)
    return id
  }

  /** The next peer's index, random stream and identity (its key comes first from the stream). */
  private nextIdentity() {
    const index = this.added++
    const rng = this.sim.rng(`peer:${index}`)
    const keyPair = this.crypto.keyPairFromSeed(rng.bytes(32))
    return { index, rng, keyPair, id: peerIdFromPublicKey(this.crypto, keyPair.publicKey) }
  }

  /** The peer's process dies: no goodbye, timers stop, links go silent. */
  crash(peer: SimLinkPeer): void {
    peer.env.kill()
    this.net.crash(peer.id)
    this.signaling.detach(peer.id)
  }
}
