/**
 * The members of one world, with O(1) add, remove and uniform sampling, so a
 * host cache from a world of 10,000 peers costs a few array reads.
 */
export class Room<T> {
  private readonly items: T[] = []
  private readonly index = new Map<T, number>()

  get size(): number {
    return this.items.length
  }

  add(item: T): void {
    if (this.index.has(item)) return
    this.index.set(item, this.items.length)
    this.items.push(item)
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
  }

  /** Up to `k` distinct members other than `except`, chosen uniformly. */
  sample(k: number, except: T, random: () => number): T[] {
    const n = this.items.length
    const out: T[] = []
    if (n <= k + 1) {
      for (const item of this.items) if (item !== except) out.push(item)
      return out.slice(0, k)
    }
    const picked = new Set<number>()
    for (let tries = 0; out.length < k && tries < 4 * k; tries++) {
      const i = Math.floor(random() * n)
      if (picked.has(i) || this.items[i] === except) continue
      picked.add(i)
      out.push(this.items[i]!)
    }
    return out
  }
}
