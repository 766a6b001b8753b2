import { ID_BYTES, commonPrefixLength, compareDistance, type PeerId } from '../core/id.js'

const BUCKETS = ID_BYTES * 8

/**
 * A peer we hold (or held until a moment ago) a verified link to. The invariant
 * from the spec: every contact in the table has an open link, so we can
 * introduce others to it; the DHT removes a contact when its link closes.
 */
export interface Contact {
  readonly id: PeerId
  readonly bytes: Uint8Array
  readonly bucket: number
  readonly addedAt: number
  /** Last DHT message from this peer. */
  lastSeen: number
}

export interface RoutingTableInit {
  /** Contacts per bucket, and the size of the sibling set (our own closest). @default 20 */
  k?: number
  /**
   * Links the table asks the link layer to keep (LinkProtocol.insists). Every
   * contact holds a WebRTC link (~0.5-0.8 MB each in Chromium; the link layer
   * caps links at 100 and collects idle ones above 80), so the table insists on
   * its k closest peers (lookups end there, and they hold our records) and on the
   * longest-lived contacts of each bucket, levelled across buckets, up to this
   * many. Contacts beyond it stay while their link lives. @default 40
   */
  maxInsisted?: number
  /** Candidates remembered per full bucket (all with open links). @default 8 */
  replacementSize?: number
}

export type AddResult =
  | { readonly kind: 'added'; readonly contact: Contact }
  | { readonly kind: 'updated' }
  | { readonly kind: 'self' }
  /** The bucket is full: the candidate waits in the replacement cache; ping `oldest`. */
  | { readonly kind: 'full'; readonly oldest: Contact }

/**
 * Kademlia routing table: 256 buckets by common-prefix length with our id, each
 * ordered least-recently-seen first, plus a replacement cache per bucket.
 */
export class RoutingTable {
  readonly k: number
  readonly maxInsisted: number
  private readonly replacementSize: number
  private readonly buckets: Contact[][] = []
  private readonly replacements: Contact[][] = []
  private readonly byId = new Map<PeerId, Contact>()
  private readonly waiting = new Map<PeerId, Contact>()
  private readonly refreshedAt: number[] = new Array<number>(BUCKETS).fill(0)
  private insisted: Set<PeerId> | undefined
  private dirty = true
  private readonly scratch: Contact[] = []
  private deepest: number | undefined
  private siblingIds: Set<PeerId> | undefined
  private rank: (id: PeerId) => number = () => 0
  /** Called whenever membership or ranking changed. */
  onChange: () => void = () => {}

  constructor(
    readonly self: Uint8Array,
    init: RoutingTableInit = {},
  ) {
    this.k = init.k ?? 20
    this.maxInsisted = init.maxInsisted ?? 40
    this.replacementSize = init.replacementSize ?? 8
    for (let i = 0; i < BUCKETS; i++) {
      this.buckets.push([])
      this.replacements.push([])
    }
  }

  get size(): number {
    return this.byId.size
  }

  has(id: PeerId): boolean {
    return this.byId.has(id)
  }

  get(id: PeerId): Contact | undefined {
    return this.byId.get(id)
  }

  bucketOf(bytes: Uint8Array): number {
    return commonPrefixLength(this.self, bytes)
  }

  /** Learns of a linked, verified peer (on every message from it). */
  add(id: PeerId, bytes: Uint8Array, now: number): AddResult {
    const known = this.byId.get(id)
    if (known !== undefined) {
      this.touch(known, now)
      return { kind: 'updated' }
    }
    const bucket = this.bucketOf(bytes)
    if (bucket >= BUCKETS) return { kind: 'self' }
    const list = this.buckets[bucket]!
    const contact: Contact = { id, bytes, bucket, addedAt: now, lastSeen: now }
    if (list.length < this.k) {
      this.dropWaiting(id)
      list.push(contact)
      this.byId.set(id, contact)
      this.changed()
      return { kind: 'added', contact }
    }
    const cache = this.replacements[bucket]!
    const old = this.waiting.get(id)
    if (old !== undefined) cache.splice(cache.indexOf(old), 1)
    else if (cache.length >= this.replacementSize) this.waiting.delete(cache.shift()!.id)
    const entry = old ?? contact
    entry.lastSeen = now
    cache.push(entry)
    this.waiting.set(id, entry)
    return { kind: 'full', oldest: list[0]! }
  }

  /** The peer answered or sent us something: it moves to the bucket's fresh end. */
  touch(contact: Contact, now: number): void {
    contact.lastSeen = now
    const list = this.buckets[contact.bucket]!
    const i = list.indexOf(contact)
    if (i >= 0 && i !== list.length - 1) {
      list.splice(i, 1)
      list.push(contact)
    }
  }

  /**
   * Forgets a peer (its link closed, or it failed a ping). A waiting candidate of
   * the same bucket takes its place; returns it.
   */
  remove(id: PeerId): Contact | undefined {
    if (this.dropWaiting(id)) return undefined
    const contact = this.byId.get(id)
    if (contact === undefined) return undefined
    const list = this.buckets[contact.bucket]!
    list.splice(list.indexOf(contact), 1)
    this.byId.delete(id)
    const promoted = this.replacements[contact.bucket]!.pop()
    if (promoted !== undefined) {
      this.waiting.delete(promoted.id)
      list.push(promoted)
      this.byId.set(promoted.id, promoted)
    }
    this.changed()
    return promoted
  }

  isWaiting(id: PeerId): boolean {
    return this.waiting.has(id)
  }

  /** The `n` contacts closest to `target`, closest first. */
  closest(target: Uint8Array, n: number, exclude?: PeerId): Contact[] {
    // Bucket i = cpl(self, target) holds the closest contacts, then every deeper
    // bucket (all at the same top distance bit), then buckets i-1, i-2, ... 0.
    const out: Contact[] = []
    const i = this.bucketOf(target)
    const deepest = this.deepestBucket()
    if (i <= deepest) this.take(out, target, n, exclude, i, i)
    if (i < deepest) this.take(out, target, n, exclude, i + 1, deepest)
    for (let j = Math.min(i, deepest + 1) - 1; j >= 0 && out.length < n; j--) this.take(out, target, n, exclude, j, j)
    return out
  }

  /** Appends buckets from..to (one distance group) to `out` in distance order, up to `n`. */
  private take(out: Contact[], target: Uint8Array, n: number, exclude: PeerId | undefined, from: number, to: number): void {
    const need = n - out.length
    if (need <= 0) return
    const group = this.scratch
    group.length = 0
    for (let j = from; j <= to; j++) {
      for (const c of this.buckets[j]!) {
        if (c.id === exclude) continue
        // Bounded insertion sort: keeps the `need` closest, allocates nothing.
        if (group.length >= need && compareDistance(target, c.bytes, group[need - 1]!.bytes) >= 0) continue
        let at = Math.min(group.length, need - 1)
        if (group.length < need) group.push(c)
        while (at > 0 && compareDistance(target, c.bytes, group[at - 1]!.bytes) < 0) {
          group[at] = group[at - 1]!
          at--
        }
        group[at] = c
      }
    }
    for (let k = 0; k < group.length && out.length < n; k++) out.push(group[k]!)
    group.length = 0
  }

  /** True when `id` is among our k closest contacts (the sibling set). */
  isSibling(id: PeerId): boolean {
    this.siblingIds ??= new Set(this.closest(this.self, this.k).map((c) => c.id))
    return this.siblingIds.has(id)
  }

  /** Whether the table needs the link to `id` kept open. */
  insists(id: PeerId): boolean {
    return this.insistedSet().has(id)
  }

  /** Every contact whose link the table needs (siblings, then levelled buckets). */
  insistedSet(): ReadonlySet<PeerId> {
    if (this.dirty || this.insisted === undefined) {
      this.insisted = this.computeInsisted()
      this.dirty = false
    }
    return this.insisted
  }

  /**
   * Like {@link insists}, from the set as last computed: cheap on hot paths that
   * may run many times between two changes settling (answering KEEP requests).
   */
  insistedBefore(id: PeerId): boolean {
    return (this.insisted ?? this.insistedSet()).has(id)
  }

  /**
   * Orders contacts within a bucket for the insisted set: lower rank first, then
   * longer-lived. The DHT ranks peers that keep their link to us first (the link
   * then serves both tables) and peers that refused to keep it last.
   */
  setRank(rank: (id: PeerId) => number): void {
    this.rank = rank
    this.changed()
  }

  /** Something the rank depends on changed. */
  invalidate(): void {
    this.changed()
  }

  /** Every contact, bucket by bucket (nearest bucket last). */
  *contacts(): IterableIterator<Contact> {
    for (const list of this.buckets) yield* list
  }

  /** Index of the deepest non-empty bucket, or -1. */
  deepestBucket(): number {
    if (this.deepest === undefined) {
      this.deepest = -1
      for (let i = BUCKETS - 1; i >= 0; i--) {
        if (this.buckets[i]!.length > 0) {
          this.deepest = i
          break
        }
      }
    }
    return this.deepest
  }

  bucketSize(i: number): number {
    return this.buckets[i]?.length ?? 0
  }

  markRefreshed(bucket: number, now: number): void {
    if (bucket >= 0 && bucket < BUCKETS) this.refreshedAt[bucket] = now
  }

  refreshedAtOf(bucket: number): number {
    return this.refreshedAt[bucket] ?? 0
  }

  /** Orders two ids by distance to us (negative: `a` closer). */
  compareToSelf(a: Uint8Array, b: Uint8Array): number {
    return compareDistance(this.self, a, b)
  }

  private changed(): void {
    this.dirty = true
    this.deepest = undefined
    this.siblingIds = undefined
    this.onChange()
  }

  private dropWaiting(id: PeerId): boolean {
    const w = this.waiting.get(id)
    if (w === undefined) return false
    this.waiting.delete(id)
    const cache = this.replacements[w.bucket]!
    cache.splice(cache.indexOf(w), 1)
    return true
  }

  /** Siblings first; then the oldest contacts of each bucket, levelled to fit the budget. */
  private computeInsisted(): Set<PeerId> {
    const out = new Set<PeerId>()
    for (const c of this.closest(this.self, Math.min(this.k, this.maxInsisted))) out.add(c.id)
    let budget = this.maxInsisted - out.size
    const rest: Contact[][] = []
    for (const list of this.buckets) {
      const others = list.filter((c) => !out.has(c.id))
      if (others.length > 0) rest.push(others.sort((a, b) => this.rank(a.id) - this.rank(b.id) || a.addedAt - b.addedAt))
    }
    for (let level = 0; budget > 0; level++) {
      let progressed = false
      // Nearest buckets first within a level: they hold fewer peers and matter most.
      for (let b = rest.length - 1; b >= 0 && budget > 0; b--) {
        const c = rest[b]![level]
        if (c === undefined) continue
        out.add(c.id)
        budget--
        progressed = true
      }
      if (!progressed) break
    }
    return out
  }
}
