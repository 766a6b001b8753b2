import { fromHex, toHex } from '../core/bytes.js'
import type { PeerId } from '../core/id.js'
import { ASSETS_SERVICE, type AssetService } from '../peer/assets-service.js'
import { CHAT_SERVICE, type ChatMessage, type ChatService } from '../peer/chat-service.js'
import { PLAYER_SERVICE, type PlayerService, type ResumeResult } from '../peer/player-service.js'
import { PRESENCE_SERVICE, type PresenceService, type Profile } from '../peer/presence-service.js'
import type { Peer } from '../peer/peer.js'
import { avatarUrl, sniffImage } from './avatar-image.js'
import type { ChatOutcome, ServiceLink } from './controller.js'
import { addChatLine, colorOf, patchPlayer, setProfile, type WorldStores } from './stores.js'

/** A failed avatar fetch is tried again after this long. */
const FETCH_RETRY_MS = 30_000
/** Avatar images kept decoded (object URLs). */
const MAX_AVATARS = 256

/** The profile the page restores when the player-state service resumes a newer one. */
export interface ResumedProfile {
  name: string | undefined
  avatar: Uint8Array | undefined
  avatarId: string | undefined
}

/**
 * Wires the optional services of the current session into the stores: chat
 * lines into the chat log, neighbours' profiles (name, colour, avatar id) onto
 * their avatars, avatar images fetched through the asset service (LOW priority,
 * verified by hash), and the player's own profile published through presence,
 * assets and the player-state service. Services that do not run are skipped;
 * a rejoin (new session, new service instances) rebinds.
 */
export class PeerServiceLink implements ServiceLink {
  private bound: { chat?: ChatService; presence?: PresenceService; player?: PlayerService } = {}
  private unbind: (() => void)[] = []
  private own: { name: string; avatar: Uint8Array | undefined; avatarId: string | undefined; chosen: boolean } | undefined
  private readonly avatars = new Map<string, string>()
  private readonly failedAt = new Map<string, number>()
  private readonly fetching = new Set<string>()

  constructor(
    private readonly stores: WorldStores,
    private readonly peer: () => Peer | undefined,
    private readonly now: () => number,
    private readonly onResumed: (p: ResumedProfile) => void,
  ) {}

  chat(text: string): ChatOutcome {
    // Bound before saying anything, so the line echoes into the log even before the first poll.
    const chat = this.bindTo(this.peer()).chat
    if (chat === undefined) return 'no-service'
    const r = chat.say(text)
    return r.ok ? (r.recipients === 0 ? 'nobody' : 'sent') : r.reason
  }

  profileChanged(p: { name: string; avatar: Uint8Array | undefined; chosen: boolean }): void {
    this.own = { ...p, avatarId: undefined }
    this.publishOwn()
  }

  poll(): void {
    const peer = this.peer()
    const { player } = this.bindTo(peer)
    this.fetchAvatars(peer)
    if (player !== undefined) {
      const s = this.stores.self.getState()
      const d = player.data
      // Position goes to the record too (batched by the service), so another browser finds it.
      if (Math.abs(d.x - s.x) > 1 || Math.abs(d.y - s.y) > 1) player.update({ x: Math.round(s.x), y: Math.round(s.y) })
    }
  }

  /** Listens to the services of `peer`'s current session (they change with the session). */
  private bindTo(peer: Peer | undefined): PeerServiceLink['bound'] {
    const chat = peer?.service<ChatService>(CHAT_SERVICE)
    const presence = peer?.service<PresenceService>(PRESENCE_SERVICE)
    const player = peer?.service<PlayerService>(PLAYER_SERVICE)
    if (chat !== this.bound.chat || presence !== this.bound.presence || player !== this.bound.player) this.rebind(chat, presence, player)
    return this.bound
  }

  private rebind(chat: ChatService | undefined, presence: PresenceService | undefined, player: PlayerService | undefined): void {
    for (const u of this.unbind) u()
    this.unbind = []
    this.bound = { chat, presence, player }
    const selfId = this.stores.self.getState().id
    if (chat !== undefined) {
      this.unbind.push(chat.onMessage((m: ChatMessage) => this.heard(m, selfId)))
    }
    if (presence !== undefined) {
      for (const [id, p] of presence.profiles()) this.profile(id, p)
      this.unbind.push(presence.onProfile((id, p) => this.profile(id, p)))
    }
    if (player !== undefined) this.unbind.push(player.onResumed((r) => this.resumed(r)))
    this.publishOwn()
  }

  private heard(m: ChatMessage, selfId: string): void {
    const self = m.from === selfId
    const name = self ? this.stores.self.getState().name : (this.stores.neighbours.getState().players.get(m.from)?.name ?? m.from.slice(0, 6))
    addChatLine(this.stores.chat, { from: m.from, name, text: m.text, at: this.now(), self })
  }

  private profile(id: PeerId, p: Profile): void {
    if (id === this.stores.self.getState().id) return
    // Presence's default colour is the id's first 24 bits: show ours (readable on the map) unless one was chosen.
    const colour = p.colour === parseInt(id.slice(0, 6), 16) ? colorOf(id) : p.colour
    const avatarUrl = p.avatar === null ? undefined : this.avatars.get(p.avatar)
    // Kept even while `id` is not shown: its enter may not be applied yet, or it may come back (presence will not repeat it).
    setProfile(this.stores.neighbours, id, { name: p.name, color: colour, avatarHash: p.avatar ?? undefined, avatarUrl })
  }

  /** Announces our profile on the current session's services (after a change or a rejoin). */
  private publishOwn(): void {
    const own = this.own
    const peer = this.peer()
    if (own === undefined || peer === undefined) return
    const assets = peer.service<AssetService>(ASSETS_SERVICE)
    if (own.avatar !== undefined && assets !== undefined) {
      try {
        own.avatarId = assets.publish(own.avatar, `image/${sniffImage(own.avatar) ?? 'png'}`)
        this.remember(own.avatarId, own.avatar)
        this.stores.self.setState({ avatarHash: own.avatarId })
      } catch {
        own.avatarId = undefined
      }
    }
    const player = peer.service<PlayerService>(PLAYER_SERVICE)
    const presence = peer.service<PresenceService>(PRESENCE_SERVICE)
    const appearance = own.avatarId === undefined ? null : own.avatarId
    if (player === undefined) {
      presence?.setProfile({ name: own.name, avatar: appearance })
    } else if (own.chosen || player.resumedWith !== undefined) {
      // A default profile waits for the resume: the record may hold the player's real one.
      player.update({ name: own.name, appearance: appearance === null ? null : fromHex(appearance) })
    }
  }

  /**
   * The player-state service found our record: a newer one (another browser), or
   * one this browser's own profile does not know, brings its name and avatar.
   */
  private resumed(r: ResumeResult): void {
    const adopt = r.source === 'dht' || (r.source === 'local' && this.own?.chosen !== true)
    if (!adopt || r.data.name === 'player') return this.publishOwn()
    const id = r.data.appearance === null ? undefined : toHex(r.data.appearance)
    const name = r.data.name === 'player' ? undefined : r.data.name
    const assets = this.peer()?.service<AssetService>(ASSETS_SERVICE)
    if (id === undefined || assets === undefined) return this.onResumed({ name, avatar: undefined, avatarId: undefined })
    assets.fetch(id).then(
      (bytes) => this.onResumed({ name, avatar: bytes, avatarId: id }),
      () => this.onResumed({ name, avatar: undefined, avatarId: undefined }),
    )
  }

  /** Fetches the avatar images neighbours' profiles name (LOW priority, from them and other holders). */
  private fetchAvatars(peer: Peer | undefined): void {
    const assets = peer?.service<AssetService>(ASSETS_SERVICE)
    if (assets === undefined) return
    const now = this.now()
    for (const p of this.stores.neighbours.getState().players.values()) {
      const id = p.avatarHash
      if (id === undefined || p.avatarUrl !== undefined) continue
      const known = this.avatars.get(id)
      if (known !== undefined) {
        patchPlayer(this.stores.neighbours, p.id, { avatarUrl: known })
        continue
      }
      if (this.fetching.has(id) || now - (this.failedAt.get(id) ?? -Infinity) < FETCH_RETRY_MS) continue
      this.fetching.add(id)
      assets.fetch(id, { hint: [p.id as PeerId] }).then(
        (bytes) => {
          this.fetching.delete(id)
          if (sniffImage(bytes) === undefined) return void this.failedAt.set(id, this.now())
          const url = this.remember(id, bytes)
          for (const q of this.stores.neighbours.getState().players.values()) if (q.avatarHash === id) patchPlayer(this.stores.neighbours, q.id, { avatarUrl: url })
        },
        () => {
          this.fetching.delete(id)
          this.failedAt.set(id, this.now())
        },
      )
    }
  }

  private remember(id: string, bytes: Uint8Array): string {
    const known = this.avatars.get(id)
    if (known !== undefined) return known
    if (this.avatars.size >= MAX_AVATARS) {
      const [oldest, url] = this.avatars.entries().next().value!
      this.avatars.delete(oldest)
      URL.revokeObjectURL(url)
    }
    const url = avatarUrl(bytes)
    this.avatars.set(id, url)
    return url
  }
}
