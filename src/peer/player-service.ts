import { toHex } from '../core/bytes.js'
import { P2PError } from '../core/errors.js'
import type { MutableRecord } from '../kademlia/records.js'
import type { PutResult } from '../kademlia/record-ops.js'
import type { PlayerData } from '../services/player-state/player-data.js'
import { PlayerStateService, type PlayerStateInit, type ResumeResult } from '../services/player-state/player-state.js'
import { PRESENCE_SERVICE, type PresenceService } from '../services/presence/presence.js'
import type { Profile } from '../services/presence/profile.js'
import { DHT_SERVICE, type DhtService } from './dht-service.js'
import type { PeerService, PeerServiceContext, PeerServiceFactory } from './session.js'

export type { PlayerData, InventoryItem } from '../services/player-state/player-data.js'
export type { ResumeResult, StateSource } from '../services/player-state/player-state.js'

export const PLAYER_SERVICE = 'player'

export type PlayerServiceInit = PlayerStateInit

/**
 * The player's persistent state in a peer: `peer.service<PlayerService>(PLAYER_SERVICE)`.
 * List it after `dhtService()` (and before `presenceService()` or after: presence is
 * found when needed). It loads the local copy at once, and when the DHT is ready
 * resumes from the newer of it and the DHT's. Changes are batched (5 s) and written
 * to both. It feeds presence: name, `appearance` as the avatar, and `stats.colour`
 * (0xRRGGBB) as the colour, whenever they change.
 *
 * Leaving: call `leave(cb)` and wait for `cb` (it runs once 10 holders have the
 * last state, typically a few round trips; give up after a few seconds) before
 * `peer.leave()`/`peer.close()`; closing the peer only saves locally, since the
 * DHT stops with it. A write too few holders acknowledged is written again.
 */
export class PlayerService implements PeerService {
  readonly name = PLAYER_SERVICE
  readonly state: PlayerStateService
  private result: ResumeResult | undefined
  private pending: Partial<PlayerData> | undefined
  private listeners: ((r: ResumeResult) => void)[] = []
  private closed = false

  constructor(
    private readonly ctx: PeerServiceContext,
    init: PlayerServiceInit = {},
  ) {
    const dht = ctx.service<DhtService>(DHT_SERVICE)
    if (dht === undefined) throw P2PError.INVALID_ARGUMENT('the player service needs dhtService() listed before it')
    this.state = new PlayerStateService({ env: ctx.env, dht: dht.dht.records, key: ctx.keyPair }, init)
    const loaded = this.state.loadLocal().catch((): MutableRecord | null => null)
    void loaded.then((local) => dht.whenReady(() => this.closed || this.state.resume(local, (r) => this.resumed(r))))
  }

  /** The current state (the initial one until resumed). */
  get data(): PlayerData {
    return this.pending === undefined ? this.state.state : { ...this.state.state, ...this.pending }
  }

  /** How the state was resumed; undefined until then. */
  get resumedWith(): ResumeResult | undefined {
    return this.result
  }

  /** Changes the state; before resuming, changes wait and are applied on top of the resumed state. */
  update(patch: Partial<PlayerData>): void {
    if (this.closed) return
    if (this.result === undefined) {
      this.pending = { ...this.pending, ...patch }
      return
    }
    this.state.update(patch)
    this.feedPresence()
  }

  /** Writes unsaved changes now (local store and DHT). */
  flush(cb: (r: PutResult | null) => void = () => {}): void {
    this.state.flush(cb)
  }

  /** Writes what is unsaved and stops; `cb` runs when the DHT write completes. */
  leave(cb: (r: PutResult | null) => void = () => {}): void {
    if (this.result !== undefined && !this.closed) this.state.leave(cb)
    else this.ctx.env.timers.setTimeout(() => cb(null), 0)
    this.closed = true
  }

  /** Hears the resume (at once if it already happened); the returned function stops. */
  onResumed(listener: (r: ResumeResult) => void): () => void {
    if (this.result !== undefined) listener(this.result)
    else this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  close(): void {
    if (!this.closed && this.result !== undefined) this.state.leave()
    this.closed = true
    this.state.stop()
    this.listeners = []
  }

  private resumed(r: ResumeResult): void {
    if (this.closed) return
    this.result = r
    if (this.pending !== undefined) this.state.update(this.pending)
    this.pending = undefined
    this.feedPresence()
    const ls = this.listeners
    this.listeners = []
    for (const l of ls) l(r)
  }

  private feedPresence(): void {
    const presence = this.ctx.service<PresenceService>(PRESENCE_SERVICE)
    if (presence === undefined) return
    const d = this.state.state
    const profile: Partial<Profile> = { name: d.name, avatar: d.appearance === null ? null : toHex(d.appearance) }
    const colour = d.stats['colour']
    presence.setProfile(colour === undefined ? profile : { ...profile, colour })
  }
}

/** The factory to put in `PeerInit.services`, after `dhtService()`. */
export function playerService(init: PlayerServiceInit = {}): PeerServiceFactory {
  return (ctx) => new PlayerService(ctx, init)
}
