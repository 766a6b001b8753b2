import { decodeValue, encodeValue, isBytes, isFiniteNumber } from '../../core/codec.js'
import { P2PError } from '../../core/errors.js'

/** One stack of items in the inventory. */
export interface InventoryItem {
  readonly item: string
  readonly count: number
}

/** What a player leaves behind and finds again: the value of their signed DHT record. */
export interface PlayerData {
  readonly name: string
  readonly x: number
  readonly y: number
  /** SHA-256 of the avatar's appearance asset (content-addressed), or null for the default look. */
  readonly appearance: Uint8Array | null
  readonly inventory: readonly InventoryItem[]
  /** Named numbers: level, health, coins ... */
  readonly stats: Readonly<Record<string, number>>
}

/** Limits on a player record's fields: far under the DHT's 16 KiB record cap. */
export const PLAYER_LIMITS = {
  nameChars: 32,
  items: 64,
  itemChars: 32,
  maxCount: 1_000_000,
  stats: 32,
  statChars: 32,
} as const

const VERSION = 1

export const NEW_PLAYER: PlayerData = { name: 'player', x: 0, y: 0, appearance: null, inventory: [], stats: {} }

/** Wire form: msgpack [1, name, x, y, appearance | null, [[item, count]...], [[stat, value]...] sorted by name]. */
export function encodePlayerData(d: PlayerData): Uint8Array {
  const stats = Object.keys(d.stats)
    .sort()
    .map((k) => [k, d.stats[k]!])
  return encodeValue([VERSION, d.name, d.x, d.y, d.appearance, d.inventory.map((i) => [i.item, i.count]), stats])
}

/** Decodes and checks a player record's value; null when malformed or over a limit. */
export function decodePlayerData(bytes: Uint8Array): PlayerData | null {
  const v = decodeValue(bytes)
  if (!Array.isArray(v) || v.length !== 7 || v[0] !== VERSION) return null
  const [, name, x, y, appearance, inventory, stats] = v as unknown[]
  const L = PLAYER_LIMITS
  if (typeof name !== 'string' || name.length > L.nameChars || !isFiniteNumber(x) || !isFiniteNumber(y)) return null
  if (appearance !== null && !(isBytes(appearance, 32) && appearance.length === 32)) return null
  if (!Array.isArray(inventory) || inventory.length > L.items || !Array.isArray(stats) || stats.length > L.stats) return null
  const items: InventoryItem[] = []
  for (const e of inventory as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2) return null
    const [item, count] = e as unknown[]
    if (typeof item !== 'string' || item.length > L.itemChars) return null
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > L.maxCount) return null
    items.push({ item, count })
  }
  const out: Record<string, number> = {}
  for (const e of stats as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2) return null
    const [k, value] = e as unknown[]
    // '__proto__' is refused: assigned, it would set nothing and the stat would vanish (found by fuzzing).
    if (typeof k !== 'string' || k === '__proto__' || k.length > L.statChars || !isFiniteNumber(value) || Object.hasOwn(out, k)) return null
    out[k] = value
  }
  return { name, x, y, appearance: appearance as Uint8Array | null, inventory: items, stats: out }
}

/** Checks data our own code is about to publish; throws INVALID_ARGUMENT when over a limit (a caller bug). */
export function checkPlayerData(d: PlayerData): void {
  if (decodePlayerData(encodePlayerData(d)) === null) throw P2PError.INVALID_ARGUMENT('player data over its limits')
}
