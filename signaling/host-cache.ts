import type { Room } from './room.js'

export interface HostCacheInit<T> {
  /** Hosts wanted. */
  size: number
  /** The joiner: never its own host. */
  except: T
  /** Share of `size` drawn from the newer members. */
  recentShare: number
  /** Hosts from one address (key) at most. */
  maxPerAddress: number
  addressOf(item: T): string
  random(): number
}

/**
 * The host cache handed to a joiner: the peers it makes its first links
 * through, so whoever owns them can feed it a false view of the world. Fresh
 * identities are free, time connected is not, so most hosts come from the
 * members that have been here longest:
 *
 * 1. anchors (the operator's always-on peers), up to half of the old share;
 * 2. the rest of the old share (`size` x (1 - recentShare)) drawn from the
 *    oldest max(2 x size, sqrt(members)) members: a pool small enough that a
 *    wave of newcomers cannot enter it, large enough (sqrt) that the oldest
 *    peers of a big world do not take every join;
 * 3. the recent share drawn uniformly from everyone else, so newer peers are
 *    found too;
 * 4. short (a small world, or addresses at their bound): filled from the pool.
 *
 * No address gets more than `maxPerAddress` slots. With 100 identities that
 * join after 20 honest peers, the pool holds honest peers only, so at most the
 * recent share (2 of 8) can be theirs. Cost: O(size + sqrt(members) + anchors).
 */
export function pickHosts<T>(room: Room<T>, init: HostCacheInit<T>): T[] {
  const { size, except, random } = init
  const out: T[] = []
  const perAddress = new Map<string, number>()
  const take = (item: T): void => {
    if (out.length >= size || item === except || out.includes(item)) return
    const address = init.addressOf(item)
    const n = perAddress.get(address) ?? 0
    if (n >= init.maxPerAddress) return
    perAddress.set(address, n + 1)
    out.push(item)
  }
  const others = room.size - (room.has(except) ? 1 : 0)
  const recentSlots = Math.min(size, Math.floor(size * init.recentShare))
  const oldSlots = size - recentSlots
  const anchors = shuffled([...room.anchors], random)
  for (const a of anchors.slice(0, Math.ceil(oldSlots / 2))) take(a)
  const pool = shuffled(room.oldest(Math.max(2 * size, Math.ceil(Math.sqrt(others)))), random)
  for (const item of pool) if (out.length < oldSlots) take(item)

  const inPool = new Set<T>([...pool, ...anchors])
  const newer = others - inPool.size + (inPool.has(except) ? 1 : 0)
  if (newer <= 4 * size) {
    for (const item of shuffled(room.all().filter((m) => !inPool.has(m)), random)) take(item)
  } else {
    for (let tries = 0; out.length < size && tries < 8 * size; tries++) {
      const item = room.draw(random)!
      if (!inPool.has(item)) take(item)
    }
  }
  for (const item of [...pool, ...anchors]) take(item)
  return out
}

/** A shuffled copy (Fisher-Yates). */
function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}
