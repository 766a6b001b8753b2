import { fromHex, toHex } from '../core/bytes.js'
import { AVATAR_MAX_BYTES } from './avatar-image.js'
import { cleanName } from './profile.js'

/**
 * The identity file a player downloads to move to another browser: the key
 * seed (which is the identity: whoever holds it is this player), with the name,
 * avatar and last position so the new browser starts where the old one left.
 */
export const IDENTITY_FILE_FORMAT = 'p2p-world-identity'
export const IDENTITY_FILE_VERSION = 1
/** Largest identity file read (an avatar in base64 plus a little). */
export const IDENTITY_FILE_MAX_BYTES = 512 * 1024

export interface IdentityFile {
  seed: Uint8Array
  name: string | undefined
  avatar: Uint8Array | undefined
  position: { x: number; y: number } | undefined
}

export function encodeIdentityFile(f: IdentityFile): string {
  return JSON.stringify({
    format: IDENTITY_FILE_FORMAT,
    version: IDENTITY_FILE_VERSION,
    note: 'Keep this file private: it is your player. Import it on the page to play as this player in another browser.',
    seed: toHex(f.seed),
    ...(f.name === undefined ? {} : { name: f.name }),
    ...(f.avatar === undefined ? {} : { avatar: toBase64(f.avatar) }),
    ...(f.position === undefined ? {} : { position: [f.position.x, f.position.y] }),
  }, null, 2)
}

/** Reads an identity file; null when it is not one (the caller shows why). */
export function decodeIdentityFile(text: string): IdentityFile | null {
  if (text.length > IDENTITY_FILE_MAX_BYTES) return null
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null) return null
  const o = v as Record<string, unknown>
  if (o.format !== IDENTITY_FILE_FORMAT || o.version !== IDENTITY_FILE_VERSION || typeof o.seed !== 'string') return null
  const seed = fromHex(o.seed)
  if (seed === null || seed.length !== 32) return null
  const name = typeof o.name === 'string' ? cleanName(o.name) : ''
  const avatar = typeof o.avatar === 'string' ? fromBase64(o.avatar) : undefined
  const p = o.position
  const position = Array.isArray(p) && p.length === 2 && p.every((n) => typeof n === 'number' && Number.isFinite(n)) ? { x: p[0] as number, y: p[1] as number } : undefined
  return { seed, name: name === '' ? undefined : name, avatar: avatar !== undefined && avatar.length <= AVATAR_MAX_BYTES ? avatar : undefined, position }
}

function toBase64(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000))
  return btoa(s)
}

function fromBase64(s: string): Uint8Array | undefined {
  try {
    const bin = atob(s)
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out
  } catch {
    return undefined
  }
}
