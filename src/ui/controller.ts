import { toHex } from '../core/bytes.js'
import type { Env } from '../core/env.js'
import { IDENTITY_KEY } from '../peer/identity.js'
import { loadPosition, savePosition } from '../peer/saved-position.js'
import type { WorldArea } from '../peer/world-area.js'
import { avatarUrl, prepareAvatar } from './avatar-image.js'
import { decodeIdentityFile, encodeIdentityFile } from './identity-file.js'
import type { Intents } from './intents.js'
import type { MoveTrace } from './move-trace.js'
import { step, type Vec, type Walkable } from './movement.js'
import type { PeerBridge } from './peer-bridge.js'
import { cleanName, saveProfile } from './profile.js'
import { addChatLine, type WorldStores } from './stores.js'

/** Local movement steps (smooth own motion); moves go to the peer at most every MOVE_EVERY_MS (it sends only what neighbours cannot predict). */
const STEP_EVERY_MS = 50
/** VON's step rate: 10 moves a second. */
export const MOVE_EVERY_MS = 100
const POLL_EVERY_MS = 250
const SAVE_EVERY_MS = 2000
export const CHAT_MAX_CHARS = 280

/** What became of a chat line: sent, or why not. */
export type ChatOutcome = 'sent' | 'nobody' | 'no-service' | 'empty' | 'too-long' | 'rate-limited' | 'closed'

const NOT_SENT: Readonly<Record<Exclude<ChatOutcome, 'sent' | 'nobody'>, string>> = {
  'no-service': 'not sent: chat is not running',
  empty: 'not sent: empty',
  'too-long': 'not sent: too long',
  'rate-limited': 'not sent: slow down a little',
  closed: 'not sent: reconnecting',
}

/** What the optional services (chat, presence, assets, player state) do for the page; see service-link.ts. */
export interface ServiceLink {
  /** Says a line to the AOI; a sent line comes back through the chat service's listener. */
  chat(text: string): ChatOutcome
  /**
   * The player's profile changed: announce it (presence) and keep it (player state, assets).
   * `chosen` is false for the made-up default of a browser that never saw this player: a
   * newer record elsewhere (another browser) must win over it.
   */
  profileChanged(p: { name: string; avatar: Uint8Array | undefined; chosen: boolean }): void
  /** A few times a second: pull remote profiles, fetch avatars, read chat. */
  poll(): void
}

export interface ControllerComponents {
  env: Env
  stores: WorldStores
  bridge: PeerBridge
  area: WorldArea
  /** Where the player may walk (the world's map: not in water). @default everywhere */
  walkable?: Walkable
  now: () => number
  /** Closes the network peer and starts a fresh one. */
  reconnect(): void
  /** Reloads the page (after an identity import). */
  reload(): void
  services?: ServiceLink
  /** Records each move handed to the peer (benchmarks, through the test hook). */
  trace?: MoveTrace
}

/** Turns intents into peer calls and runs the page's clocks: movement, polling, saving. */
export class Controller implements Intents {
  private held = { x: 0, y: 0 }
  private lastStepAt: number
  private lastMoveAt = 0
  private lastSent = ''
  private lastSaved = ''
  private avatar: Uint8Array | undefined
  private timers: number[] = []
  services: ServiceLink | undefined

  constructor(private readonly c: ControllerComponents) {
    this.lastStepAt = c.now()
    this.services = c.services
  }

  /** The profile read at start (local store), or a newer one the player-state service resumed. */
  setProfile(name: string | undefined, avatar: Uint8Array | undefined): void {
    if (name !== undefined) this.stores.self.setState({ name })
    if (avatar !== undefined) this.applyAvatar(avatar)
    this.profileChanged(name !== undefined || avatar !== undefined)
  }

  start(): void {
    this.timers.push(
      window.setInterval(() => this.tick(), STEP_EVERY_MS),
      window.setInterval(() => this.poll(), POLL_EVERY_MS),
      window.setInterval(() => void this.savePosition(), SAVE_EVERY_MS),
    )
    this.poll()
  }

  stop(): void {
    for (const t of this.timers) window.clearInterval(t)
    this.timers = []
  }

  private get stores(): WorldStores {
    return this.c.stores
  }

  // ---- intents ----

  moveTo(x: number, y: number): void {
    this.stores.self.setState({ target: { x, y } })
  }

  setHeld(dx: number, dy: number): void {
    this.held = { x: dx, y: dy }
  }

  /** Says a line to the players in the AOI; true when someone was there to hear it (otherwise the log says why). */
  chat(text: string): boolean {
    const line = text.trim()
    if (line === '') return false
    const self = this.stores.self.getState()
    const note = (what: string): false => {
      addChatLine(this.stores.chat, { from: self.id, name: self.name, text: what, at: this.c.now(), self: true, system: true })
      return false
    }
    if ([...line].length > CHAT_MAX_CHARS) return note(`not sent: ${[...line].length} characters, at most ${CHAT_MAX_CHARS}`)
    const outcome = this.services?.chat(line) ?? 'no-service'
    if (outcome === 'sent') return true
    if (outcome === 'nobody') return note(`nobody is within chat range (${self.aoi.toFixed(0)} units) to hear that: walk closer to a player`)
    return note(`${line.slice(0, 60)}${line.length > 60 ? '…' : ''} (${NOT_SENT[outcome]})`)
  }

  setName(name: string): void {
    const clean = cleanName(name)
    if (clean === '' || clean === this.stores.self.getState().name) return
    this.stores.self.setState({ name: clean })
    this.profileChanged()
  }

  async setAvatar(file: Blob): Promise<void> {
    const { bytes } = await prepareAvatar(file)
    this.applyAvatar(bytes)
    this.profileChanged()
  }

  toggleInspector(open?: boolean): void {
    const next = open ?? !this.stores.inspector.getState().open
    this.stores.inspector.setState({ open: next })
    if (next) this.c.bridge.poll()
  }

  async exportIdentity(): Promise<string> {
    const seed = await this.c.env.store.get(IDENTITY_KEY)
    if (seed === undefined) throw new Error('No identity is stored in this browser yet.')
    const s = this.stores.self.getState()
    return encodeIdentityFile({ seed, name: s.name, avatar: this.avatar, position: { x: s.x, y: s.y } })
  }

  async importIdentity(text: string): Promise<void> {
    const f = decodeIdentityFile(text)
    if (f === null) throw new Error('That file is not a p2p world identity file.')
    const { store } = this.c.env
    await store.set(IDENTITY_KEY, f.seed)
    if (f.position !== undefined) await savePosition(store, f.position.x, f.position.y)
    await saveProfile(store, { name: f.name ?? this.stores.self.getState().name, avatar: f.avatar })
    this.c.reload()
  }

  retryNow(): void {
    this.c.reconnect()
  }

  // ---- clocks ----

  /** Steps the player, sends the move (throttled to VON's rate), applies received moves. */
  tick(): void {
    const now = this.c.now()
    const dt = Math.min(250, now - this.lastStepAt)
    this.lastStepAt = now
    const self = this.stores.self.getState()
    const next = step(self, { held: this.held, target: self.target }, dt, this.c.area, this.c.walkable)
    if (next.at.x !== self.x || next.at.y !== self.y || next.target !== self.target) {
      this.stores.self.setState({ x: next.at.x, y: next.at.y, target: next.target })
    }
    const peer = this.c.bridge.peer
    // The velocity of this step (0 when standing): neighbours predict us from it.
    const vx = dt > 0 ? ((next.at.x - self.x) * 1000) / dt : 0
    const vy = dt > 0 ? ((next.at.y - self.y) * 1000) / dt : 0
    const here = `${next.at.x},${next.at.y},${vx === 0 && vy === 0}`
    if (peer !== undefined && here !== this.lastSent && now - this.lastMoveAt >= MOVE_EVERY_MS - 5) {
      this.lastSent = here
      this.lastMoveAt = now
      // The trace keeps the positions neighbours were told (dead reckoning sends few on a straight walk).
      if (peer.move(next.at.x, next.at.y, vx, vy)) this.c.trace?.sent(next.at.x, next.at.y)
    }
    this.c.bridge.flush()
  }

  private poll(): void {
    this.c.bridge.poll()
    this.services?.poll()
  }

  private async savePosition(): Promise<void> {
    const { x, y } = this.stores.self.getState()
    const here = `${x.toFixed(1)},${y.toFixed(1)}`
    if (here === this.lastSaved) return
    this.lastSaved = here
    await savePosition(this.c.env.store, x, y).catch(() => {})
  }

  private applyAvatar(bytes: Uint8Array | undefined): void {
    const old = this.stores.self.getState().avatarUrl
    if (old !== undefined) URL.revokeObjectURL(old)
    this.avatar = bytes
    this.stores.self.setState(bytes === undefined
      ? { avatarHash: undefined, avatarUrl: undefined }
      : { avatarHash: toHex(this.c.env.crypto.sha256(bytes)), avatarUrl: avatarUrl(bytes) })
  }

  private profileChanged(chosen = true): void {
    const s = this.stores.self.getState()
    if (chosen) void saveProfile(this.c.env.store, { name: s.name, avatar: this.avatar }).catch(() => {})
    this.services?.profileChanged({ name: s.name, avatar: this.avatar, chosen })
  }
}

/**
 * New players appear within this distance of the world's centre (its spawn):
 * any two are at most twice this apart, inside each other's AOI (radius 200),
 * so they can talk at once without walking.
 */
export const SPAWN_RADIUS = 80

/**
 * Where the player starts: where they left, else a random spot of the spawn
 * disk at the world's centre, moved to the nearest land (`land`) if it is water.
 */
export async function startPosition(env: Env, area: WorldArea, land: (p: Vec) => Vec = (p) => p): Promise<Vec> {
  const saved = await loadPosition(env.store).catch(() => undefined)
  if (saved !== undefined) return saved
  const r = SPAWN_RADIUS * Math.sqrt(env.rng.next())
  const a = 2 * Math.PI * env.rng.next()
  return land({ x: area.width / 2 + r * Math.cos(a), y: area.height / 2 + r * Math.sin(a) })
}
