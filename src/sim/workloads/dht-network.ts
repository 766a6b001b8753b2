import { idToBytes, type PeerId } from '../../core/id.js'
import { insertionIndex } from '../../kademlia/distance.js'
import { Kademlia, type JoinResult, type KademliaInit } from '../../kademlia/kademlia.js'
import type { LinkManagerInit } from '../../link/link-manager.js'
import type { SeededRng } from '../rng.js'
import { SimWorld, type SimLinkPeer } from '../world.js'

/** Mean distance between two uniform points of the unit square. */
const MEAN_UNIT_SQUARE_DISTANCE = (2 + Math.SQRT2 + 5 * Math.log(1 + Math.SQRT2)) / 15

export interface DhtNetworkInit {
  seed: string | number
  /** Mean one-way latency between two peers (access links plus distance). @default 50 */
  oneWayMsMean?: number
  /** Each peer's access-link delay, part of the mean. @default 10 */
  accessMs?: number
  link?: LinkManagerInit
  kad?: KademliaInit
}

/** A simulated peer running the DHT. */
export interface DhtPeer extends SimLinkPeer {
  readonly dht: Kademlia
  readonly bytes: Uint8Array
  alive: boolean
  joined: boolean
}

/**
 * A simulated world of DHT peers: placement in the latency plane, joins through
 * a live peer introduced by the signaling node, crashes, and the oracle (the
 * true k closest among every live id).
 */
export class DhtNetwork {
  readonly world: SimWorld
  readonly peers: DhtPeer[] = []
  private readonly live: DhtPeer[] = []
  private readonly liveIndex = new Map<PeerId, number>()
  private readonly place: SeededRng
  private readonly side: number
  private readonly accessMs: number

  constructor(private readonly init: DhtNetworkInit) {
    this.world = new SimWorld({ seed: init.seed, link: init.link ?? {} })
    this.place = this.world.sim.rng('dht-placement')
    this.accessMs = init.accessMs ?? 10
    const distanceMean = (init.oneWayMsMean ?? 50) - 2 * this.accessMs
    this.side = Math.max(0, distanceMean) / MEAN_UNIT_SQUARE_DISTANCE
  }

  get sim(): SimWorld['sim'] {
    return this.world.sim
  }

  get liveCount(): number {
    return this.live.length
  }

  liveAt(i: number): DhtPeer {
    return this.live[i]!
  }

  /** Adds a peer (not yet joined). */
  addPeer(): DhtPeer {
    const spec = { x: this.place.next() * this.side, y: this.place.next() * this.side, accessMs: this.accessMs }
    const base = this.world.addPeer(spec)
    const dht = new Kademlia({ env: base.env, links: base.links, localId: base.id, keyPair: base.keyPair }, this.init.kad ?? {})
    const peer: DhtPeer = { ...base, dht, bytes: idToBytes(base.id), alive: true, joined: false }
    this.peers.push(peer)
    this.liveIndex.set(peer.id, this.live.length)
    this.live.push(peer)
    return peer
  }

  /** A random live, joined peer other than `not`, or undefined. */
  randomJoined(rng: SeededRng, not?: DhtPeer): DhtPeer | undefined {
    for (let tries = 0; tries < 64 && this.live.length > 0; tries++) {
      const p = this.live[rng.int(this.live.length)]!
      if (p !== not && p.joined) return p
    }
    return this.live.find((p) => p !== not && p.joined)
  }

  /** Joins `peer` through `bootstrap` (the first peer just marks itself joined). */
  join(peer: DhtPeer, bootstrap: DhtPeer | undefined, cb: (r: JoinResult | undefined) => void = () => {}): void {
    if (bootstrap === undefined) {
      peer.joined = true
      return cb(undefined)
    }
    peer.dht.join(bootstrap.id, (r) => {
      peer.joined = peer.alive
      cb(r)
    })
  }

  /**
   * Adds `n` peers that join one after another through random joined peers, at
   * a rate that grows with the network as a world fills up: each joined peer
   * brings `perPeerPerSec` newcomers per second, at most `maxPerSec` in all.
   * Runs the simulator until every one has joined (or `maxMs` passes).
   */
  grow(
    n: number,
    opts: { perPeerPerSec?: number; maxPerSec?: number; maxMs?: number; rng?: SeededRng; onJoined?: (peer: DhtPeer, r: JoinResult | undefined) => void } = {},
  ): void {
    const rng = opts.rng ?? this.sim.rng('dht-grow')
    const perPeer = opts.perPeerPerSec ?? 0.05
    const maxRate = opts.maxPerSec ?? 100
    let added = 0
    let joined = 0
    const base = this.joinedCount()
    const tick = (): void => {
      if (added >= n) return
      added++
      const peer = this.addPeer()
      this.join(peer, this.randomJoined(rng, peer), (r) => {
        joined++
        opts.onJoined?.(peer, r)
      })
      const rate = Math.min(maxRate, Math.max(1, (base + joined) * perPeer))
      this.sim.after(1000 / rate, tick)
    }
    tick()
    this.sim.runWhile(() => joined < n, this.sim.now + (opts.maxMs ?? 3600_000))
  }

  joinedCount(): number {
    let n = 0
    for (const p of this.live) if (p.joined) n++
    return n
  }

  /** The peer's process dies: no goodbye. */
  crash(peer: DhtPeer): void {
    if (!peer.alive) return
    peer.alive = false
    peer.joined = false
    peer.dht.stop()
    this.world.crash(peer)
    const i = this.liveIndex.get(peer.id)!
    const last = this.live.pop()!
    if (last !== peer) {
      this.live[i] = last
      this.liveIndex.set(last.id, i)
    }
    this.liveIndex.delete(peer.id)
  }

  /** The true `k` closest live peers to `target` (the oracle), closest first. */
  trueClosest(target: Uint8Array, k: number, exclude?: PeerId): PeerId[] {
    const best: { id: PeerId; bytes: Uint8Array }[] = []
    for (const p of this.live) {
      if (p.id === exclude) continue
      if (best.length === k && compareFirst(target, p.bytes, best[k - 1]!.bytes) >= 0) continue
      best.splice(insertionIndex(target, best, p.bytes), 0, { id: p.id, bytes: p.bytes })
      if (best.length > k) best.pop()
    }
    return best.map((b) => b.id)
  }
}

function compareFirst(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const d = (a[i]! ^ target[i]!) - (b[i]! ^ target[i]!)
    if (d !== 0) return d
  }
  return 0
}
