import { parsePeerId, type PeerId } from '../core/id.js'
import { parseIceOverride, type IceServer } from '../platform/ice-servers.js'
import { parseLogLevel, type LogLevel } from '../platform/json-log.js'
import { isWorldName, normalizeWorldName, WORLD_NAME_RULE } from '../platform/signaling/signaling-protocol.js'

/** The page's URL parameters, read once, with what was refused. */
export interface PageParams {
  world: string
  /** The node to dial; undefined: this page's own origin. */
  signalingUrl: string | undefined
  manualPeers: PeerId[]
  log: LogLevel | undefined
  /** ICE servers instead of the node's; undefined: the node's. */
  ice: IceServer[] | undefined
  stress: number
  headless: boolean
  offline: boolean
  relay: boolean
  /** `?volunteer=0`: do not relay for other peers (on by default, within the caps of BROWSER_RELAY). */
  volunteer: boolean
  /** `?dht=0` */
  dht: boolean
  /** One line for each parameter the page could not use as given, saying what it did instead. */
  notices: string[]
}

export const MAX_STRESS_AVATARS = 1000
export const MAX_MANUAL_PEERS = 16
const FLAGS = ['headless', 'offline', 'relay', 'dht', 'volunteer'] as const
const KNOWN = new Set(['world', 'signaling', 'peers', 'log', 'ice', 'stress', ...FLAGS])

/** Shows a value in a notice: quoted, cut short, control characters escaped. */
const shown = (v: string): string => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)

/** Reads `location.search`; never throws: a value it cannot use becomes a notice and a default. */
export function readPageParams(search: string, defaultWorld: string): PageParams {
  const q = new URLSearchParams(search)
  const notices: string[] = []
  const flag = (name: (typeof FLAGS)[number], fallback: boolean): boolean => {
    const v = q.get(name)
    if (v === null) return fallback
    if (v === '' || v === '1' || v === 'true') return true
    if (v === '0' || v === 'false') return false
    notices.push(`?${name}=${shown(v)}: use 1 or 0; taken as 1.`)
    return true
  }
  for (const name of new Set(q.keys())) if (!KNOWN.has(name)) notices.push(`?${shown(name)} is not a parameter of this page; ignored.`)
  return {
    world: world(q.get('world'), defaultWorld, notices),
    signalingUrl: signalingUrl(q.get('signaling'), notices),
    manualPeers: peers(q.get('peers'), notices),
    log: logLevel(q.get('log'), notices),
    ice: ice(q.get('ice'), notices),
    stress: stress(q.get('stress'), notices),
    headless: flag('headless', false),
    offline: flag('offline', false),
    relay: flag('relay', false),
    dht: flag('dht', true),
    volunteer: flag('volunteer', true),
    notices,
  }
}

function world(v: string | null, fallback: string, notices: string[]): string {
  if (v === null) return fallback
  const name = normalizeWorldName(v)
  if (isWorldName(name)) return name
  notices.push(`?world=${shown(v)} is not a world name (${WORLD_NAME_RULE}); playing in "${fallback}".`)
  return fallback
}

function signalingUrl(v: string | null, notices: string[]): string | undefined {
  if (v === null) return undefined
  let url: URL | undefined
  try {
    url = new URL(v)
  } catch {
    url = undefined
  }
  if (url !== undefined && (url.protocol === 'ws:' || url.protocol === 'wss:')) return url.toString()
  notices.push(`?signaling=${shown(v)} is not a ws:// or wss:// URL; using this page's own node.`)
  return undefined
}

function peers(v: string | null, notices: string[]): PeerId[] {
  if (v === null || v.trim() === '') return []
  const entries = v.split(',').map((p) => p.trim()).filter((p) => p !== '')
  const ids = entries.map(parsePeerId).filter((p): p is PeerId => p !== null)
  const bad = entries.filter((p) => parsePeerId(p) === null)
  if (bad.length > 0) notices.push(`?peers: ${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not a peer id (64 hex digits) and left out: ${bad.slice(0, 3).map(shown).join(', ')}.`)
  if (ids.length > MAX_MANUAL_PEERS) notices.push(`?peers: at most ${MAX_MANUAL_PEERS} peers; the first ${MAX_MANUAL_PEERS} are used.`)
  return ids.slice(0, MAX_MANUAL_PEERS)
}

function logLevel(v: string | null, notices: string[]): LogLevel | undefined {
  if (v === null) return undefined
  const level = parseLogLevel(v)
  if (level !== null) return level
  notices.push(`?log=${shown(v)}: use debug, info, warn, error or silent; the default is used.`)
  return undefined
}

function ice(v: string | null, notices: string[]): IceServer[] | undefined {
  if (v === null) return undefined
  const o = parseIceOverride(v)
  if (o === 'node') return undefined
  if (Array.isArray(o)) return o
  notices.push(`?${o.error}. Using the signaling node's ICE servers instead.`)
  return undefined
}

function stress(v: string | null, notices: string[]): number {
  if (v === null) return 0
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) {
    notices.push(`?stress=${shown(v)} is not a whole number of avatars; none are added.`)
    return 0
  }
  if (n > MAX_STRESS_AVATARS) notices.push(`?stress=${n}: at most ${MAX_STRESS_AVATARS} avatars; ${MAX_STRESS_AVATARS} are added.`)
  return Math.min(n, MAX_STRESS_AVATARS)
}
