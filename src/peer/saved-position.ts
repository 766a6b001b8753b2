import { decodeValue, encodeValue, isFiniteNumber } from '../core/codec.js'
import type { KeyValueStore } from '../core/env.js'

/** Store key of the last position. */
export const POSITION_KEY = 'peer/position'

/** Where the peer was when last saved; undefined when never saved or unreadable. */
export async function loadPosition(store: KeyValueStore, key = POSITION_KEY): Promise<{ x: number; y: number } | undefined> {
  const raw = await store.get(key)
  const v = raw === undefined ? undefined : decodeValue(raw)
  if (!Array.isArray(v) || v.length !== 2 || !isFiniteNumber(v[0]) || !isFiniteNumber(v[1])) return undefined
  return { x: v[0], y: v[1] }
}

export async function savePosition(store: KeyValueStore, x: number, y: number, key = POSITION_KEY): Promise<void> {
  await store.set(key, encodeValue([x, y]))
}
