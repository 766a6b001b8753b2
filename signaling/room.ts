/**
 * The members of one world: O(1) add, remove and uniform draw, the members in
 * the order they joined (oldest first), and which of them are anchors. A host
 * cache from a world of 10,000 peers costs a few dozen reads (`host-cache.ts`).
 */
export class Room<T> {
  private readonly items: T[] = []
  private readonly index = new Map<T, number>()
  /** Insertion-ordered: iterating yields the longest-joined member first. */
  private readonly byAge = new Set<T>()
  private readonly anchorSet = new Set<T>()

  get size(): number {
    return this.items.length
  }

  /** The operator's always-on peers, in the order they were marked. */
  get anchors(): ReadonlySet<T> {
    return this.anchorSet
  }

  has(item: T): boolean {
    return this.index.has(item)
  }

  add(item: T, anchor = false): void {
    if (this.index.has(item)) return
    this.index.set(item, this.items.length)
    this.items.push(item)
    this.byAge.add(item)
    if (anchor) this.anchorSet.add(item)
  }

  markAnchor(item: T): void {
    if (this.index.has(item)) this.anchorSet.add(item)
  }

  delete(item: T): void {
    const i = this.index.get(item)
    if (i === undefined) return
    const last = this.items.pop()!
    this.index.delete(item)
    if (last !== item) {
      this.items[i] = last
      this.index.set(last, i)
    }
    this.byAge.delete(item)
    this.anchorSet.delete(item)
  }

  /** Up to `n` members that are not anchors, longest-joined first. */
  oldest(n: number): T[] {
    const out: T[] = []
    if (n <= 0) return out
    for (const item of this.byAge) {
      if (this.anchorSet.has(item)) continue
      out.push(item)
      if (out.length >= n) break
    }
    return out
  }

  /** A member drawn uniformly; undefined when empty. */
  draw(random: () => number): T | undefined {
    return this.items[Math.floor(random() * this.items.length)]
  }

  /** Every member, in no particular order (for small worlds). */
  all(): readonly T[] {
    return this.items
  }
}
