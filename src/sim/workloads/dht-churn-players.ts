import type { KeyPair } from '../../core/env.js'
import { PLAYER_NS, signMutable } from '../../kademlia/records.js'
import { encodePlayerData, NEW_PLAYER } from '../../services/player-state/player-data.js'
import { PlayerStateService } from '../../services/player-state/player-state.js'
import type { SeededRng } from '../rng.js'
import type { Session } from './dht-churn-model.js'
import type { ChurnReads, WriterView } from './dht-churn-reads.js'
import type { DhtNetwork, DhtPeer } from './dht-network.js'

/** A player of the churn scenario: a key that outlives its sessions, and what it wrote. */
export interface ChurnPlayer extends WriterView {
  readonly key: KeyPair
  readonly recordKey: Uint8Array
  readonly sessions: readonly Session[]
  newest: number
  acked: number
  seeded: boolean
  endAt: number
  goneAt: number
  writes: { seq: number; at: number; leave: boolean; stored: number | undefined }[]
  peer: DhtPeer | undefined
  svc: PlayerStateService | undefined
  /** The last session's peer is still writing its leave. */
  leaving: boolean
  /** An extra return of this player is under way. */
  probing: boolean
  x: number
  y: number
}

/** Joins through random peers; a browser whose join found nobody tries another (`tries` in all). */
export function joinNew(net: DhtNetwork, rng: SeededRng, peer: DhtPeer, cb: (ok: boolean) => void, tries = 3): void {
  net.join(peer, net.randomJoined(rng, peer), (r) => {
    if (!peer.alive) return cb(false)
    if (r === undefined || (r.ok && r.tableSize > 0)) return cb(true)
    if (tries <= 1) return cb(false)
    joinNew(net, rng, peer, cb, tries - 1)
  })
}

/**
 * The prior state of players offline at the start (their last session was before
 * the run): seq 1, signed by them, stored through random online peers, spread over
 * [fromMs, fromMs + spanMs). Players whose first session starts before a minute
 * after that are left out. Returns the players seeded.
 */
export function seedPriorStates(net: DhtNetwork, rng: SeededRng, players: readonly ChurnPlayer[], fromMs: number, spanMs: number): ChurnPlayer[] {
  const toSeed = players.filter((p) => p.sessions[0]?.ongoing !== true && (p.sessions[0]?.startMs ?? Infinity) > fromMs + spanMs + 60_000)
  toSeed.forEach((p, i) => {
    net.sim.at(fromMs + (i * spanMs) / Math.max(1, toSeed.length), () => {
      const via = net.randomJoined(rng)
      if (via === undefined || p.peer !== undefined || p.newest > 0) return
      const record = signMutable(p.key, PLAYER_NS, 1, encodePlayerData({ ...NEW_PLAYER, x: p.x, y: p.y }))
      p.newest = 1
      p.seeded = true
      via.dht.records.put(record, (r) => {
        if (r.stored > 0) p.acked = Math.max(p.acked, 1)
      })
    })
  })
  return toSeed
}

/**
 * Extra returns of offline players: a new browser (new peer, empty store) with the
 * player's key joins, reads the state from the DHT as a returning owner does, and
 * goes. Its peers are not players: they stay out of the bandwidth and online counts.
 */
export class ExtraReturns {
  /** Probe peers alive now, and every one there was. */
  readonly live = new Set<DhtPeer>()
  readonly all = new Set<DhtPeer>()
  joinsFailed = 0

  constructor(
    private readonly net: DhtNetwork,
    private readonly rng: SeededRng,
    private readonly reads: ChurnReads,
  ) {}

  /** Returns one of `candidates` (offline players with a state), picked at random. */
  issue(candidates: readonly ChurnPlayer[]): void {
    if (candidates.length === 0) return
    const p = candidates[this.rng.int(candidates.length)]!
    p.probing = true
    const peer = this.net.addPeer()
    this.live.add(peer)
    this.all.add(peer)
    const finish = (): void => {
      p.probing = false
      this.live.delete(peer)
      this.net.crash(peer)
    }
    this.net.sim.after(60_000, () => {
      if (!this.live.has(peer)) return
      this.joinsFailed++
      finish()
    })
    joinNew(this.net, this.rng, peer, (ok) => {
      if (!this.live.has(peer)) return
      if (!ok) {
        this.joinsFailed++
        return finish()
      }
      const svc = new PlayerStateService({ env: peer.env, dht: peer.dht.records, key: p.key })
      const done = this.reads.begin('probe', p, svc.key)
      svc.resume(null, (r) => {
        done(r.dhtSeq ?? 0)
        svc.stop()
        finish()
      })
    })
  }
}
