import { decodeValue, encodeValue, isFiniteNumber } from '../core/codec.js'
import type { Env } from '../core/env.js'
import { parsePeerId, type PeerId } from '../core/id.js'

/** A peer seen recently, where it was. */
export interface CachedPeer {
  readonly id: PeerId
  readonly x: number
  readonly y: number
}

export interface PeerCacheComponents {
  env: Pick<Env, 'store' | 'timers' | 'log'>
}

export interface PeerCacheInit {
  /** Peers kept, most recently seen first. @default 16 */
  maxEntries?: number
  /** Store key of the list. @default 'peer/cache' */
  storeKey?: string
  /** Saves are batched: at most one per this period. @default 2000 */
  saveDelayMs?: number
}

/**
 * The peers this peer met lately (its VON neighbours), kept in `Env.store` so
 * the next session can bootstrap through them (seed 003: "a cached list of
 * previously known peers"). Bounded, most recent first; writes are batched.
 */
export class PeerCache {
  private readonly env: PeerCacheComponents['env']
  private readonly max: number
  private readonly key: string
  private readonly saveDelayMs: number
  /** Insertion order is recency: the last entry is the newest. */
  private readonly entries = new Map<PeerId, CachedPeer>()
  private saveTimer: unknown = undefined
  private closed = false

  constructor(components: PeerCacheComponents, init: PeerCacheInit = {}) {
    this.env = components.env
    this.max = init.maxEntries ?? 16
    this.key = init.storeKey ?? 'peer/cache'
    this.saveDelayMs = init.saveDelayMs ?? 2000
  }

  /** Reads the list the last session saved (entries seen since are kept first). */
  async load(): Promise<void> {
    let raw: Uint8Array | undefined
    try {
      raw = await this.env.store.get(this.key)
    } catch (err) {
      this.env.log.warn('peer cache: cannot read the store', { err })
      return
    }
    const stored = raw === undefined ? [] : decodeCache(raw, this.max)
    const seen = [...this.entries.values()]
    this.entries.clear()
    for (const e of [...stored.reverse(), ...seen]) this.remember(e)
  }

  /** Records `id` as seen now at (x, y). */
  seen(id: PeerId, x: number, y: number): void {
    this.remember({ id, x, y })
    this.scheduleSave()
  }

  /** Forgets a peer known to be gone (e.g. the signaling node does not know it). */
  forget(id: PeerId): void {
    if (this.entries.delete(id)) this.scheduleSave()
  }

  /** Cached peers, nearest to (x, y) first. */
  nearest(x: number, y: number): CachedPeer[] {
    const d = (p: CachedPeer): number => (p.x - x) ** 2 + (p.y - y) ** 2
    return [...this.entries.values()].sort((a, b) => d(a) - d(b) || (a.id < b.id ? -1 : 1))
  }

  get size(): number {
    return this.entries.size
  }

  /** Writes pending changes now and stops saving. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.saveTimer === undefined) return
    this.env.timers.clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    await this.save()
  }

  private remember(e: CachedPeer): void {
    this.entries.delete(e.id)
    this.entries.set(e.id, e)
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined || this.closed) return
    this.saveTimer = this.env.timers.setTimeout(() => {
      this.saveTimer = undefined
      void this.save()
    }, this.saveDelayMs)
  }

  private async save(): Promise<void> {
    const list = [...this.entries.values()].reverse().map((e) => [e.id, e.x, e.y])
    try {
      await this.env.store.set(this.key, encodeValue(list))
    } catch (err) {
      this.env.log.warn('peer cache: cannot write the store', { err })
    }
  }
}

/** Validates a stored list (it may come from an older version, or be corrupt); newest first. */
function decodeCache(raw: Uint8Array, max: number): CachedPeer[] {
  const v = decodeValue(raw)
  if (!Array.isArray(v)) return []
  const out: CachedPeer[] = []
  for (const e of v.slice(0, max)) {
    if (!Array.isArray(e) || e.length !== 3) continue
    const id = parsePeerId(e[0])
    if (id !== null && isFiniteNumber(e[1]) && isFiniteNumber(e[2])) out.push({ id, x: e[1], y: e[2] })
  }
  return out
}
