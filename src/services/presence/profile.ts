import { fromHex, toHex } from '../../core/bytes.js'
import { isBytes, isUint } from '../../core/codec.js'
import { sanitizeText } from '../rate-limit.js'

/** A player's public profile, as neighbours see it. */
export interface Profile {
  /** Display name: at most {@link MAX_NAME_CHARS}, sanitized (no control or format characters). */
  readonly name: string
  /** 0xRRGGBB. */
  readonly colour: number
  /** The avatar's asset id (64 lower-case hex characters), or null for the default look. */
  readonly avatar: string | null
}

export const MAX_NAME_CHARS = 32
/** A remote name longer than this (before sanitizing) is malformed, not just long. */
const MAX_RAW_NAME_CHARS = 128
export const DEFAULT_NAME = 'player'

export const PresenceMsg = {
  /** A peer's profile: [name, colour, avatar(32 bytes) | null, want(0|1)]; want asks for the receiver's. */
  PROFILE: 1,
} as const

/** Normalises a profile our own code sets; throws nothing, fixes what it can. */
export function normaliseProfile(p: Partial<Profile>, base: Profile): Profile {
  const name = p.name === undefined ? base.name : sanitizeText(p.name, MAX_NAME_CHARS) || DEFAULT_NAME
  const colour = p.colour === undefined ? base.colour : isUint(p.colour, 0xffffff) ? p.colour : base.colour
  let avatar = base.avatar
  if (p.avatar !== undefined) avatar = p.avatar === null || !/^[0-9a-f]{64}$/.test(p.avatar) ? null : p.avatar
  return { name, colour, avatar }
}

export function sameProfile(a: Profile, b: Profile): boolean {
  return a.name === b.name && a.colour === b.colour && a.avatar === b.avatar
}

export function encodeProfile(p: Profile, want: boolean): unknown[] {
  return [p.name, p.colour, p.avatar === null ? null : fromHex(p.avatar), want ? 1 : 0]
}

/** Decodes a PROFILE payload from a remote peer; null when malformed. */
export function decodeProfile(v: unknown): { profile: Profile; want: boolean } | null {
  if (!Array.isArray(v) || v.length !== 4) return null
  const [name, colour, avatar, want] = v as unknown[]
  if (typeof name !== 'string' || name.length > MAX_RAW_NAME_CHARS) return null
  if (!isUint(colour, 0xffffff) || (want !== 0 && want !== 1)) return null
  if (avatar !== null && !(isBytes(avatar, 32) && avatar.length === 32)) return null
  const clean = sanitizeText(name, MAX_NAME_CHARS) || DEFAULT_NAME
  return { profile: { name: clean, colour, avatar: avatar === null ? null : toHex(avatar) }, want: want === 1 }
}
