import { createStore, type StoreApi } from 'zustand/vanilla'
import { pushSample, type Sample } from './interpolation.js'
import type { Vec } from './movement.js'
import type { PathKind } from '../link/transport.js'
import type { Problem } from './problems.js'

/**
 * The view of the world the game renders: one zustand (vanilla) store per
 * concern. Only src/main.ts and the adapters in src/ui write them from the
 * network; the game reads them and dispatches {@link Intents}.
 */

export interface SelfState {
  id: string
  x: number
  y: number
  /** Click-to-move destination. */
  target: Vec | null
  name: string
  /** 0xRRGGBB, from the id. */
  color: number
  /** SHA-256 (hex) of the avatar image, when one is set. */
  avatarHash: string | undefined
  /** A URL the page can draw the avatar from (object URL). */
  avatarUrl: string | undefined
  aoi: number
  joined: boolean
}

export interface RemotePlayer {
  readonly id: string
  /** Recent positions with local receive times, for interpolation. */
  readonly track: readonly Sample[]
  readonly name: string | undefined
  readonly color: number
  readonly avatarHash: string | undefined
  readonly avatarUrl: string | undefined
  readonly linkOpen: boolean
  /** The network path of the link to this player, once known (host, srflx, prflx, relay). */
  readonly path: PathKind | undefined
  /** A stress-test avatar, not a peer. */
  readonly fake: boolean
}

/** What a neighbour's presence profile puts on its avatar. */
export type NeighbourProfile = Pick<RemotePlayer, 'name' | 'color' | 'avatarHash' | 'avatarUrl'>

export interface NeighboursState {
  players: ReadonlyMap<string, RemotePlayer>
  /**
   * The last profile heard from each id, shown or not: a profile can arrive
   * before its player's enter is applied, and presence does not repeat an
   * unchanged profile when a player leaves and comes back (a reload). Bounded
   * ({@link MAX_PROFILES}), least recently heard dropped first.
   */
  profiles: ReadonlyMap<string, NeighbourProfile>
}

export interface QueueDepth {
  count: number
  bytes: number
}

/** Open links by the kind of their network path. */
export type PathCounts = Readonly<Record<PathKind | 'unknown', number>>

/** A connection attempt that failed, as the page shows it. */
export interface FailedLink {
  readonly peer: string
  /** ice-failed, no-candidates, turn-refused, no-answer, or the link layer's reason when the transport could not tell. */
  readonly code: string
  readonly reason: string
  readonly detail: string | undefined
  /** Local time it failed (ms). */
  readonly at: number
}

export interface ConnectionState {
  signalingUrl: string
  world: string
  signaling: string
  /** Sockets opened to the node so far. */
  connects: number
  peerState: string
  neighbours: number
  links: { open: number; connecting: number }
  introduced: number
  viaSignaling: number
  /** [HIGH, MEDIUM, LOW] */
  queues: readonly QueueDepth[]
  /** One-way move latency to VON neighbours (ms), median: half the link RTT (see peer-bridge.ts). */
  moveLatencyMs: number | undefined
  /** The same, 95th percentile. */
  moveLatencyP95Ms: number | undefined
  joinMs: number | undefined
  rejoins: number
  dhtContacts: number | undefined
  /** Open links by path kind. */
  paths: PathCounts
  /** Relaying through peers: our home relays, and the circuits we relay for others (undefined: we do not volunteer). */
  relay: { homes: number; serving: number | undefined; tampered: number }
  /** The ICE servers in use, without credentials ("STUN 1 · TURN 1", "none"), and where they came from. */
  ice: { summary: string; source: 'node' | 'override' | 'kept' | 'pending' }
  /** The last connection attempts that failed (at most a few, newest last). */
  failedLinks: readonly FailedLink[]
  /** What a person should know (and do) right now. */
  problem: Problem | undefined
  /** Services running this session (dht, chat, presence ...). */
  services: readonly string[]
}

export interface ChatLine {
  readonly id: number
  readonly from: string
  readonly name: string
  readonly text: string
  /** Local time (ms). */
  readonly at: number
  readonly self: boolean
  /** A note of the page's (a line not sent, or heard by nobody), not something a player said. */
  readonly system?: boolean
}

export interface ChatState {
  lines: readonly ChatLine[]
}

export type NeighbourKind = 'enclosing' | 'boundary' | 'aoi' | 'other'

export interface InspectorState {
  open: boolean
  /** Voronoi cells of self (first) and each neighbour, from the local diagram. */
  cells: readonly { id: string; poly: readonly Vec[] }[]
  marks: readonly { id: string; x: number; y: number; kinds: readonly NeighbourKind[]; dht: boolean }[]
  links: readonly { id: string; x: number | undefined; y: number | undefined; protocols: readonly string[]; queues: readonly number[]; path: PathKind | undefined }[]
  dhtContacts: readonly { id: string; bucket: number; linked: boolean }[]
  queues: readonly QueueDepth[]
}

export interface WorldStores {
  self: StoreApi<SelfState>
  neighbours: StoreApi<NeighboursState>
  connection: StoreApi<ConnectionState>
  chat: StoreApi<ChatState>
  inspector: StoreApi<InspectorState>
}

/** Chat lines kept. */
export const MAX_CHAT_LINES = 200
/** Neighbour profiles kept (presence keeps as many). */
export const MAX_PROFILES = 256

/** A stable colour per id (a hue from its first hex digits). */
export function colorOf(id: string): number {
  const h = (parseInt(id.slice(0, 6), 16) || 0) % 360
  const s = 0.55
  const l = 0.6
  const f = (n: number): number => {
    const k = (n + h / 30) % 12
    const a = s * Math.min(l, 1 - l)
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))))
  }
  return (f(0) << 16) | (f(8) << 8) | f(4)
}

export function createWorldStores(init: { id: string; world: string; signalingUrl: string; x: number; y: number; aoi: number; name: string }): WorldStores {
  return {
    self: createStore<SelfState>()(() => ({
      id: init.id, x: init.x, y: init.y, target: null, name: init.name, color: colorOf(init.id),
      avatarHash: undefined, avatarUrl: undefined, aoi: init.aoi, joined: false,
    })),
    neighbours: createStore<NeighboursState>()(() => ({ players: new Map(), profiles: new Map() })),
    connection: createStore<ConnectionState>()(() => ({
      signalingUrl: init.signalingUrl, world: init.world, signaling: 'idle', connects: 0, peerState: 'idle', neighbours: 0,
      links: { open: 0, connecting: 0 }, introduced: 0, viaSignaling: 0, queues: [{ count: 0, bytes: 0 }, { count: 0, bytes: 0 }, { count: 0, bytes: 0 }],
      moveLatencyMs: undefined, moveLatencyP95Ms: undefined, joinMs: undefined, rejoins: 0, dhtContacts: undefined, problem: undefined, services: [],
      paths: { host: 0, srflx: 0, prflx: 0, relay: 0, 'peer-relay': 0, unknown: 0 }, relay: { homes: 0, serving: undefined, tampered: 0 }, ice: { summary: 'none', source: 'pending' }, failedLinks: [],
    })),
    chat: createStore<ChatState>()(() => ({ lines: [] })),
    inspector: createStore<InspectorState>()(() => ({ open: false, cells: [], marks: [], links: [], dhtContacts: [], queues: [] })),
  }
}

/** A neighbour moved (or appeared): batched by the caller, applied in one store update. */
export interface PositionUpdate {
  id: string
  t: number
  x: number
  y: number
  /** Velocity (units/s) the sender reported, when it did. */
  vx?: number
  vy?: number
}

/** A neighbour left. */
export interface Departure {
  id: string
  left: true
}

/** What the overlay said about a neighbour, kept in arrival order until applied. */
export type NeighbourEvent = PositionUpdate | Departure

/**
 * Applies moves, arrivals and departures to the neighbours store in one
 * `setState`, in the order given: a leave and a re-enter in one batch (a
 * reload) leave the player there. An arrival takes the profile last heard for its id.
 */
export function applyMoves(store: StoreApi<NeighboursState>, events: readonly NeighbourEvent[], fake = false): void {
  if (events.length === 0) return
  const { profiles } = store.getState()
  const players = new Map(store.getState().players)
  for (const e of events) {
    if ('left' in e) {
      players.delete(e.id)
      continue
    }
    const p = players.get(e.id)
    const track = pushSample(p?.track ?? [], e.vx === undefined ? { t: e.t, x: e.x, y: e.y } : { t: e.t, x: e.x, y: e.y, vx: e.vx, vy: e.vy ?? 0 })
    players.set(e.id, p === undefined
      ? { id: e.id, track, name: undefined, color: colorOf(e.id), avatarHash: undefined, avatarUrl: undefined, linkOpen: false, path: undefined, fake, ...profiles.get(e.id) }
      : { ...p, track })
  }
  store.setState({ players })
}

/** Remembers the profile heard from `id` (bounded) and shows it on the player if it is there, in one `setState`. */
export function setProfile(store: StoreApi<NeighboursState>, id: string, profile: NeighbourProfile): void {
  const { players, profiles } = store.getState()
  const nextProfiles = new Map(profiles)
  nextProfiles.delete(id) // re-inserted: least recently heard first
  if (nextProfiles.size >= MAX_PROFILES) nextProfiles.delete(nextProfiles.keys().next().value!)
  nextProfiles.set(id, profile)
  const p = players.get(id)
  store.setState(p === undefined ? { profiles: nextProfiles } : { profiles: nextProfiles, players: new Map(players).set(id, { ...p, ...profile }) })
}

/** Changes some fields of one neighbour (profile, link state); no-op for an unknown id or no change. */
export function patchPlayer(store: StoreApi<NeighboursState>, id: string, patch: Partial<Omit<RemotePlayer, 'id' | 'track'>>): void {
  const p = store.getState().players.get(id)
  if (p === undefined) return
  if (Object.entries(patch).every(([k, v]) => p[k as keyof RemotePlayer] === v)) return
  const players = new Map(store.getState().players)
  players.set(id, { ...p, ...patch })
  store.setState({ players })
}

/** Appends a chat line (bounded). */
export function addChatLine(store: StoreApi<ChatState>, line: Omit<ChatLine, 'id'>): void {
  const old = store.getState().lines
  const lines = [...old, { ...line, id: (old[old.length - 1]?.id ?? 0) + 1 }]
  store.setState({ lines: lines.length > MAX_CHAT_LINES ? lines.slice(lines.length - MAX_CHAT_LINES) : lines })
}

/** The last line each speaker said at or after `since` (speech bubbles). */
export function recentLines(lines: readonly ChatLine[], since: number): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!
    if (l.at < since) break
    if (l.system !== true && !out.has(l.from)) out.set(l.from, l.text)
  }
  return out
}
