import { concatBytes, fromHex, utf8 } from '../../core/bytes.js'
import { parsePeerId, type PeerId } from '../../core/id.js'
import type { SignalData } from '../../link/transport.js'
import { parseIceServers, type IceServer } from '../ice-servers.js'

/**
 * The signaling node's wire protocol: one JSON object per WebSocket text frame,
 * told apart by `t`. See docs/signaling.md. Parsers take untrusted text and
 * return null for anything malformed; they never throw.
 */
export const SIGNALING_VERSION = 1

/** Largest frame either side sends or accepts. */
export const MAX_SIGNALING_FRAME_BYTES = 64 * 1024

/** What a client signs to prove its id: this tag, then the server's 32-byte nonce. */
const AUTH_TAG = utf8('p2p-world/signaling-auth/v1\n')

export const NONCE_BYTES = 32

export function authMessage(nonce: Uint8Array): Uint8Array {
  return concatBytes([AUTH_TAG, nonce])
}

/**
 * World names: letters (any script), combining marks, digits, `_`, `.`, `-`,
 * and single spaces between them; at most 64 characters; in Unicode NFC, so a
 * name typed with a precomposed or a combining accent is one world. Printable
 * and safe to log: no control characters, no `/`.
 */
const WORLD_RE = /^[\p{L}\p{M}\p{N}_.-]+(?: [\p{L}\p{M}\p{N}_.-]+)*$/u
export const MAX_WORLD_NAME_CHARS = 64
/** The rule in words, for messages. */
export const WORLD_NAME_RULE = `letters, digits, _ . - and single spaces between them, at most ${MAX_WORLD_NAME_CHARS} characters`

export type ClientMessage =
  | { t: 'auth'; key: Uint8Array; sig: Uint8Array }
  | { t: 'join'; world: string }
  | { t: 'signal'; to: PeerId; initiator: boolean; data: SignalData }
  /** A join ticket for the place we join at (see von/join-tickets.ts). */
  | { t: 'ticket'; x: number; y: number }

export type ServerErrorCode =
  | 'bad-frame'
  | 'not-authenticated'
  | 'auth-failed'
  | 'not-joined'
  | 'unknown-peer'
  | 'peer-busy'
  | 'rate-limited'
  | 'ticket-refused'

export type ServerMessage =
  | { t: 'challenge'; v: number; nonce: Uint8Array }
  /** `tk`: the key the node signs join tickets with, and `now` its clock then (ms); absent from a node that issues none. */
  | { t: 'welcome'; id: PeerId; ice?: IceServer[]; tk?: Uint8Array; now?: number }
  | { t: 'ticket'; x: number; y: number; at: number; sig: Uint8Array }
  | { t: 'ice'; ice: IceServer[] }
  | { t: 'peers'; world: string; peers: PeerId[] }
  | { t: 'signal'; from: PeerId; initiator: boolean; data: SignalData }
  | { t: 'error'; code: string; message: string; to?: PeerId }

export function isWorldName(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 4 * MAX_WORLD_NAME_CHARS && [...v].length <= MAX_WORLD_NAME_CHARS && v === v.normalize('NFC') && WORLD_RE.test(v)
}

/** What a person typed as a world name, in the form {@link isWorldName} checks: NFC, trimmed, inner runs of spaces as one. */
export function normalizeWorldName(typed: string): string {
  return typed.normalize('NFC').trim().replace(/\s+/g, ' ')
}

function parseObject(text: unknown, maxBytes: number): Record<string, unknown> | null {
  if (typeof text !== 'string' || text.length > maxBytes) return null
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

function hexBytes(v: unknown, length: number): Uint8Array | null {
  if (typeof v !== 'string' || v.length !== length * 2) return null
  return fromHex(v)
}

/** A position on any map the world may have (the VON wire's range). */
function isCoord(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e7
}

/** A node's clock reading (ms). */
function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0
}

function isData(v: unknown): v is SignalData {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parses a frame from a client; null when malformed. */
export function parseClientMessage(text: unknown, maxBytes = MAX_SIGNALING_FRAME_BYTES): ClientMessage | null {
  const m = parseObject(text, maxBytes)
  if (m === null) return null
  switch (m.t) {
    case 'auth': {
      const key = hexBytes(m.key, 32)
      const sig = hexBytes(m.sig, 64)
      return key !== null && sig !== null ? { t: 'auth', key, sig } : null
    }
    case 'join':
      return isWorldName(m.world) ? { t: 'join', world: m.world } : null
    case 'signal': {
      const to = parsePeerId(m.to)
      if (to === null || typeof m.initiator !== 'boolean' || !isData(m.data)) return null
      return { t: 'signal', to, initiator: m.initiator, data: m.data }
    }
    case 'ticket':
      return isCoord(m.x) && isCoord(m.y) ? { t: 'ticket', x: m.x, y: m.y } : null
    default:
      return null
  }
}

/** Parses a frame from the server; null when malformed. */
export function parseServerMessage(text: unknown, maxBytes = MAX_SIGNALING_FRAME_BYTES): ServerMessage | null {
  const m = parseObject(text, maxBytes)
  if (m === null) return null
  switch (m.t) {
    case 'challenge': {
      const nonce = hexBytes(m.nonce, NONCE_BYTES)
      return nonce !== null && typeof m.v === 'number' ? { t: 'challenge', v: m.v, nonce } : null
    }
    case 'welcome': {
      const id = parsePeerId(m.id)
      if (id === null) return null
      const out: ServerMessage & { t: 'welcome' } = { t: 'welcome', id }
      if (m.ice !== undefined) {
        const ice = parseIceServers(m.ice)
        if (ice === null) return null
        out.ice = ice
      }
      if (m.tk !== undefined || m.now !== undefined) {
        const tk = hexBytes(m.tk, 32)
        if (tk === null || !isTime(m.now)) return null
        out.tk = tk
        out.now = m.now
      }
      return out
    }
    case 'ticket': {
      const sig = hexBytes(m.sig, 64)
      return sig !== null && isCoord(m.x) && isCoord(m.y) && isTime(m.at) ? { t: 'ticket', x: m.x, y: m.y, at: m.at, sig } : null
    }
    case 'ice': {
      const ice = parseIceServers(m.ice)
      return ice === null ? null : { t: 'ice', ice }
    }
    case 'peers': {
      if (!isWorldName(m.world) || !Array.isArray(m.peers) || m.peers.length > 256) return null
      const peers = m.peers.map(parsePeerId)
      return peers.every((p) => p !== null) ? { t: 'peers', world: m.world, peers: peers as PeerId[] } : null
    }
    case 'signal': {
      const from = parsePeerId(m.from)
      if (from === null || typeof m.initiator !== 'boolean' || !isData(m.data)) return null
      return { t: 'signal', from, initiator: m.initiator, data: m.data }
    }
    case 'error': {
      if (typeof m.code !== 'string' || typeof m.message !== 'string') return null
      const to = parsePeerId(m.to)
      return to === null ? { t: 'error', code: m.code, message: m.message } : { t: 'error', code: m.code, message: m.message, to }
    }
    default:
      return null
  }
}

function hexReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value
  let out = ''
  for (const b of value) out += b.toString(16).padStart(2, '0')
  return out
}

/** Encodes a message for the wire; byte fields become lower-case hex. */
export function encodeSignalingMessage(m: ClientMessage | ServerMessage): string {
  return JSON.stringify(m, hexReplacer)
}
