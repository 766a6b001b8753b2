import type { KeyValueStore } from '../core/env.js'
import { IDENTITY_KEY } from '../peer/identity.js'
import type { SavedPlayer } from '../platform/browser/tab-slot.js'
import { PrefixedStore } from '../platform/prefixed-store.js'
import { loadProfile } from './profile.js'

/** The store prefix of a player slot. */
export const slotPrefix = (slot: number): string => `tab${slot}/`

/** Players saved in this browser (slots with an identity), with their names. */
export async function listSavedPlayers(store: KeyValueStore): Promise<SavedPlayer[]> {
  const out: SavedPlayer[] = []
  for (const key of await store.keys('tab')) {
    const m = /^tab(\d{1,3})\/(.*)$/.exec(key)
    if (m === null || m[2] !== IDENTITY_KEY) continue
    const slot = Number(m[1])
    const profile = await loadProfile(new PrefixedStore(store, slotPrefix(slot))).catch(() => ({ name: undefined }))
    out.push({ slot, name: profile.name })
  }
  return out.sort((a, b) => a.slot - b.slot)
}
