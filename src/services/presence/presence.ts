import type { Env } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import type { LinkManager } from '../../link/link-manager.js'
import { PROTOCOL } from '../../link/link-messages.js'
import { Priority } from '../../link/priority.js'
import { SlidingWindowLimiter } from '../rate-limit.js'
import { DEFAULT_NAME, PresenceMsg, decodeProfile, encodeProfile, normaliseProfile, sameProfile, type Profile } from './profile.js'

export interface PresenceComponents {
  env: Pick<Env, 'clock' | 'timers'>
  links: Pick<LinkManager, 'send' | 'handle' | 'register'>
  localId: PeerId
  /** The current VON neighbours. */
  neighbours(): Iterable<PeerId>
}

export interface PresenceInit {
  /** Our profile before the first `setProfile`. @default name "player", a colour from our id, no avatar */
  initial?: Partial<Profile>
  /** Profiles remembered (neighbours and recent ones), least recently heard forgotten first. @default 256 */
  maxProfiles?: number
  /**
   * Profiles accepted per sender per window. Beyond it only the newest is kept,
   * and applied once the window allows: a flood costs one slot per sender, and
   * the last word (a name set just after a reload) is never lost. @default 5
   */
  maxPerWindow?: number
  /** @default 5000 */
  windowMs?: number
}

export interface PresenceStats {
  sent: number
  received: number
  invalid: number
  rateLimited: number
}

/** The service's name in a peer (`peer.service<PresenceService>(PRESENCE_SERVICE)`). */
export const PRESENCE_SERVICE = 'presence'

export type ProfileListener = (id: PeerId, profile: Profile) => void

interface Known {
  profile: Profile
  /** Heard since the peer last entered our neighbourhood (else possibly stale). */
  current: boolean
}

/**
 * Public profiles of the players around us. Ours goes (MEDIUM) to each
 * neighbour when it enters and to every neighbour when it changes; theirs are
 * remembered, bounded. The link layer authenticates the sender, so a profile
 * from X is X's: nobody can set another's name.
 */
export class PresenceService {
  readonly name = PRESENCE_SERVICE
  readonly stats: PresenceStats = { sent: 0, received: 0, invalid: 0, rateLimited: 0 }
  private readonly c: PresenceComponents
  private readonly maxProfiles: number
  private readonly limiter: SlidingWindowLimiter<PeerId>
  private own: Profile
  private readonly known = new Map<PeerId, Known>()
  /** Neighbours that have our current profile (or have it queued). */
  private readonly told = new Set<PeerId>()
  private listeners: ProfileListener[] = []
  private closed = false
  /** The newest rate-limited profile of each sender, applied when its window allows. */
  private readonly held = new Map<PeerId, { profile: Profile; want: boolean }>()
  private heldTimer: unknown = undefined
  private readonly windowMs: number

  constructor(components: PresenceComponents, init: PresenceInit = {}) {
    this.c = components
    this.maxProfiles = init.maxProfiles ?? 256
    this.windowMs = init.windowMs ?? 5000
    this.limiter = new SlidingWindowLimiter(init.maxPerWindow ?? 5, this.windowMs, this.maxProfiles)
    const colour = parseInt(components.localId.slice(0, 6), 16)
    this.own = normaliseProfile(init.initial ?? {}, { name: DEFAULT_NAME, colour, avatar: null })
    components.links.register({ id: PROTOCOL.PRESENCE, onLinkOpen: (peer) => this.linkOpened(peer) })
    components.links.handle(PROTOCOL.PRESENCE, PresenceMsg.PROFILE, (from, p) => this.onProfileMsg(from, p))
  }

  /** Our own profile. */
  get profile(): Profile {
    return this.own
  }

  /** Changes our profile (sanitized) and tells every neighbour if it changed. Listeners hear it under our id. */
  setProfile(patch: Partial<Profile>): Profile {
    const next = normaliseProfile(patch, this.own)
    if (sameProfile(next, this.own) || this.closed) return this.own
    this.own = next
    this.told.clear()
    for (const id of this.c.neighbours()) this.sendTo(id, this.known.get(id)?.current !== true)
    this.emit(this.c.localId, next)
    return next
  }

  /** The last profile heard from `id`, if any. */
  profileOf(id: PeerId): Profile | undefined {
    return this.known.get(id)?.profile
  }

  /** Every remembered profile (neighbours first heard most recently last). */
  profiles(): ReadonlyMap<PeerId, Profile> {
    return new Map([...this.known].map(([id, k]) => [id, k.profile]))
  }

  /** Hears every new or changed profile, ours included; the returned function stops. */
  onProfile(listener: ProfileListener): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  /** A VON neighbour entered: tell it who we are, and ask for its profile unless ours is current. */
  neighbourEntered(id: PeerId): void {
    if (!this.told.has(id)) this.sendTo(id, this.known.get(id)?.current !== true)
  }

  neighbourLeft(id: PeerId): void {
    this.told.delete(id)
    const k = this.known.get(id)
    if (k !== undefined) k.current = false
  }

  close(): void {
    this.closed = true
    this.listeners = []
    this.held.clear()
    if (this.heldTimer !== undefined) this.c.env.timers.clearTimeout(this.heldTimer)
    this.heldTimer = undefined
  }

  private linkOpened(peer: PeerId): void {
    if (this.told.has(peer)) return
    for (const id of this.c.neighbours()) if (id === peer) return this.sendTo(peer, this.known.get(peer)?.current !== true)
  }

  private sendTo(id: PeerId, want: boolean): void {
    if (this.closed) return
    const r = this.c.links.send(id, PROTOCOL.PRESENCE, PresenceMsg.PROFILE, encodeProfile(this.own, want), Priority.MEDIUM, { key: 'profile' })
    if (r === 'no-link' || r === 'rejected') return // retried when a link to it opens
    this.told.add(id)
    this.stats.sent++
  }

  private onProfileMsg(from: PeerId, payload: unknown): void {
    if (this.closed) return
    const m = decodeProfile(payload)
    if (m === null) {
      this.stats.invalid++
      return
    }
    if (!this.limiter.allow(from, this.c.env.clock.now())) {
      this.stats.rateLimited++
      this.held.delete(from)
      if (this.held.size >= this.maxProfiles) this.held.delete(this.held.keys().next().value as PeerId)
      this.held.set(from, m)
      this.scheduleHeld()
      return
    }
    this.held.delete(from)
    this.accept(from, m)
  }

  private scheduleHeld(): void {
    if (this.heldTimer !== undefined || this.closed) return
    this.heldTimer = this.c.env.timers.setTimeout(() => {
      this.heldTimer = undefined
      const now = this.c.env.clock.now()
      for (const [from, m] of [...this.held]) {
        if (!this.limiter.allow(from, now)) continue
        this.held.delete(from)
        this.accept(from, m)
      }
      if (this.held.size > 0) this.scheduleHeld()
    }, this.windowMs / 4)
  }

  private accept(from: PeerId, m: { profile: Profile; want: boolean }): void {
    if (this.closed) return
    this.stats.received++
    const old = this.known.get(from)
    this.known.delete(from) // re-inserted: least recently heard first
    if (old === undefined && this.known.size >= this.maxProfiles) this.known.delete(this.known.keys().next().value as PeerId)
    this.known.set(from, { profile: m.profile, current: true })
    if (m.want) this.sendTo(from, false)
    if (old === undefined || !sameProfile(old.profile, m.profile)) this.emit(from, m.profile)
  }

  private emit(id: PeerId, p: Profile): void {
    for (const l of this.listeners) l(id, p)
  }
}
