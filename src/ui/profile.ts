import { decodeValue, encodeValue, isBytes } from '../core/codec.js'
import type { KeyValueStore } from '../core/env.js'
import { AVATAR_MAX_BYTES } from './avatar-image.js'

/** Store key of the player's name and avatar (kept locally until the player-state service holds them). */
export const PROFILE_KEY = 'ui/profile'
export const NAME_MAX_CHARS = 24

export interface Profile {
  name: string
  /** The prepared avatar image, if the player set one. */
  avatar: Uint8Array | undefined
}

/** A name as shown to others: trimmed, single-line, at most NAME_MAX_CHARS. */
export function cleanName(raw: string): string {
  return raw.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, NAME_MAX_CHARS)
}

/** A default name from the id: stable, and distinct enough between players. */
export function defaultName(id: string): string {
  return `player-${id.slice(0, 4)}`
}

export async function loadProfile(store: KeyValueStore, key = PROFILE_KEY): Promise<Partial<Profile>> {
  const raw = await store.get(key).catch(() => undefined)
  const v = raw === undefined ? undefined : decodeValue(raw)
  if (typeof v !== 'object' || v === null) return {}
  const o = v as Record<string, unknown>
  const name = typeof o.name === 'string' ? cleanName(o.name) : ''
  return {
    ...(name === '' ? {} : { name }),
    ...(isBytes(o.avatar, AVATAR_MAX_BYTES) ? { avatar: o.avatar } : {}),
  }
}

export async function saveProfile(store: KeyValueStore, p: Profile, key = PROFILE_KEY): Promise<void> {
  await store.set(key, encodeValue({ name: p.name, ...(p.avatar === undefined ? {} : { avatar: p.avatar }) }))
}
