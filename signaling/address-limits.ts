import { TokenBucket } from './token-bucket.js'

/** Why a socket from an address is refused before it is accepted. */
export type AddressRefusal = 'address-full' | 'auth-rate'

export interface AddressLimitsInit {
  maxSocketsPerAddress: number
  authsPerMinute: number
  /** Address keys (`addressKey`) not limited and never evicted. */
  exempt: ReadonlySet<string>
  /**
   * Addresses without sockets are remembered (for their spent authentications)
   * until their bucket refills; past this many addresses, all of those are forgotten at once.
   */
  maxRecords: number
}

interface AddressRecord<T> {
  readonly sockets: Set<T>
  readonly auths: TokenBucket
  /** Refusals since the last logged one: a flood is logged once a minute, not per socket. */
  refused: number
  loggedAtMs: number
}

const LOG_REFUSALS_EVERY_MS = 60_000

/**
 * Per-address bookkeeping for the node: sockets held and authentications spent,
 * and which address holds the most sockets (buckets by count), each in O(1), so
 * an address hammering the node costs it a map lookup per attempt.
 */
export class AddressLimits<T> {
  private readonly records = new Map<string, AddressRecord<T>>()
  /** byCount[n]: the addresses holding exactly n >= 1 sockets. */
  private readonly byCount: Set<string>[] = []
  private top = 0

  constructor(private readonly init: AddressLimitsInit) {}

  /** Addresses remembered (with sockets, or with spent authentications). */
  get size(): number {
    return this.records.size
  }

  isExempt(key: string): boolean {
    return this.init.exempt.has(key)
  }

  /** Why a new socket from `key` must be refused now, or null. */
  check(key: string, nowMs: number): AddressRefusal | null {
    const r = this.records.get(key)
    if (r === undefined || this.init.exempt.has(key)) return null
    if (r.sockets.size >= this.init.maxSocketsPerAddress) return 'address-full'
    return r.auths.has(1, nowMs) ? null : 'auth-rate'
  }

  add(key: string, item: T, nowMs: number): void {
    if (this.init.exempt.has(key)) return
    const r = this.records.get(key) ?? this.create(key, nowMs)
    const before = r.sockets.size
    r.sockets.add(item)
    if (r.sockets.size === before) return
    this.byCount[before]?.delete(key)
    ;(this.byCount[before + 1] ??= new Set()).add(key)
    this.top = Math.max(this.top, before + 1)
  }

  remove(key: string, item: T): void {
    const r = this.records.get(key)
    if (r === undefined || !r.sockets.delete(item)) return
    const now = r.sockets.size
    this.byCount[now + 1]!.delete(key)
    if (now > 0) (this.byCount[now] ??= new Set()).add(key)
    while (this.top > 0 && (this.byCount[this.top]?.size ?? 0) === 0) this.top--
  }

  /** Spends one authentication of `key`; false when its budget is spent. */
  takeAuth(key: string, nowMs: number): boolean {
    const r = this.records.get(key)
    return r === undefined || r.auths.take(1, nowMs)
  }

  /**
   * The socket to close so that one from `key` fits a full node: the newest
   * (preferring those `prefer` picks) of the address holding the most, when it
   * holds at least two more than `key`, so two addresses never trade a socket back and forth.
   */
  victimFor(key: string, prefer: (item: T) => boolean): T | undefined {
    const own = this.records.get(key)?.sockets.size ?? 0
    if (this.top < own + 2) return undefined
    const biggest = this.byCount[this.top]!.values().next().value as string
    let newest: T | undefined
    let newestPreferred: T | undefined
    for (const item of this.records.get(biggest)!.sockets) {
      newest = item
      if (prefer(item)) newestPreferred = item
    }
    return newestPreferred ?? newest
  }

  /** Counts a refusal of `key`; returns how many to log now (at most once a minute per address), else undefined. */
  noteRefusal(key: string, nowMs: number): number | undefined {
    const r = this.records.get(key)
    if (r === undefined) return 1
    r.refused++
    if (nowMs - r.loggedAtMs < LOG_REFUSALS_EVERY_MS) return undefined
    const n = r.refused
    r.refused = 0
    r.loggedAtMs = nowMs
    return n
  }

  /** Forgets addresses without sockets whose authentication budget has refilled. */
  prune(nowMs: number): void {
    for (const [key, r] of this.records) if (r.sockets.size === 0 && r.auths.full(nowMs)) this.records.delete(key)
  }

  private create(key: string, nowMs: number): AddressRecord<T> {
    if (this.records.size >= this.init.maxRecords) {
      this.prune(nowMs)
      // Still over: a swarm of fresh addresses. Forget every idle one (amortised O(1) per address).
      if (this.records.size >= this.init.maxRecords) for (const [k, r] of this.records) if (r.sockets.size === 0) this.records.delete(k)
    }
    const perMinute = this.init.authsPerMinute
    const r: AddressRecord<T> = { sockets: new Set(), auths: new TokenBucket(perMinute / 60, perMinute, nowMs), refused: 0, loggedAtMs: -Infinity }
    this.records.set(key, r)
    return r
  }
}
