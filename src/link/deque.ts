/** A FIFO array queue with O(1) amortised shift; compacts when the dead prefix grows. */
export class Deque<T> {
  private items: T[] = []
  private head = 0

  get size(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  peek(): T | undefined {
    return this.items[this.head]
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined as T
    this.head++
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Keeps only items for which `keep` is true, preserving order. */
  filter(keep: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep)
    this.head = 0
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!
  }

  clear(): void {
    this.items = []
    this.head = 0
  }
}
