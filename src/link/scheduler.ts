import { encodeFrame } from '../core/codec.js'
import { Deque } from './deque.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import { Priority } from './priority.js'

/** Room left in a fragment for its FRAG frame header, so the frame fits `fragmentBytes`. */
export const FRAG_HEADER_BYTES = 12

/** Limits of one class's queue on one link. */
export interface ClassBounds {
  maxCount: number
  maxBytes: number
}

export interface SchedulerInit {
  /**
   * A MEDIUM message waiting longer than this goes before HIGH traffic.
   * @default 100
   */
  agingBoundMs?: number
  /**
   * Queue bounds per class [HIGH, MEDIUM, LOW]. At the bound HIGH drops its oldest
   * waiting message (a newer move makes it stale), MEDIUM and LOW reject the new one
   * (the caller sees it; LOW senders pace by {@link PriorityScheduler.queuedBytes}).
   * @default HIGH 256 / 256 KiB, MEDIUM 1024 / 1 MiB, LOW 256 / 2 MiB
   */
  bounds?: readonly [ClassBounds, ClassBounds, ClassBounds]
  /**
   * 'fifo' puts every class in one queue (a baseline for benchmarks); bounds,
   * fragmentation and replacement still apply.
   * @default 'priority'
   */
  mode?: 'priority' | 'fifo'
}

export const DEFAULT_BOUNDS: readonly [ClassBounds, ClassBounds, ClassBounds] = [
  { maxCount: 256, maxBytes: 256 * 1024 },
  { maxCount: 1024, maxBytes: 1024 * 1024 },
  { maxCount: 256, maxBytes: 2 * 1024 * 1024 },
]

/** What happened to an enqueued message. */
export type EnqueueResult =
  | 'queued'
  /** Queued, and a waiting message with the same key was removed (superseded). */
  | 'replaced'
  /** Queued, and the oldest waiting HIGH message was dropped to stay in bounds. */
  | 'dropped-oldest'
  /** Not queued: the class is at its bound. */
  | 'rejected'

interface Entry {
  readonly bytes: Uint8Array
  readonly cls: Priority
  readonly enqueuedAt: number
  readonly key: string | undefined
  /** Bytes already handed to the transport (fragments). */
  offset: number
  dead: boolean
}

/** One unit for the transport: a whole frame or one fragment of a larger one. */
export interface Outgoing {
  readonly bytes: Uint8Array
  readonly cls: Priority
  /** True when this was the message's last (or only) piece. */
  readonly done: boolean
  readonly enqueuedAt: number
}

export interface SchedulerStats {
  /** MEDIUM messages served ahead of waiting HIGH ones because they aged. */
  promoted: number
  dropped: [number, number, number]
  rejected: [number, number, number]
  replaced: [number, number, number]
  /** Longest time from enqueue to the last piece handed to the transport, per class. */
  maxWaitMs: [number, number, number]
}

/**
 * The three-class scheduler of one link. It owns the queue; the link hands it a
 * fragment size and pulls one piece at a time while the transport's buffer is low,
 * so a bulk message can never hold a move back for more than one fragment.
 */
export class PriorityScheduler {
  readonly agingBoundMs: number
  readonly mode: 'priority' | 'fifo'
  readonly stats: SchedulerStats = {
    promoted: 0,
    dropped: [0, 0, 0],
    rejected: [0, 0, 0],
    replaced: [0, 0, 0],
    maxWaitMs: [0, 0, 0],
  }
  private readonly bounds: readonly [ClassBounds, ClassBounds, ClassBounds]
  private readonly queues: [Deque<Entry>, Deque<Entry>, Deque<Entry>]
  private readonly counts = [0, 0, 0]
  /** Sum of `counts`: the empty check runs for every frame sent, so it reads one field. */
  private total = 0
  private readonly bytes = [0, 0, 0]
  /** Waiting messages by replacement key, one map per class (made on first use). */
  private readonly keyed: (Map<string, Entry> | undefined)[] = [undefined, undefined, undefined]

  constructor(init: SchedulerInit = {}) {
    this.agingBoundMs = init.agingBoundMs ?? 100
    this.bounds = init.bounds ?? DEFAULT_BOUNDS
    this.mode = init.mode ?? 'priority'
    this.queues = [new Deque(), new Deque(), new Deque()]
  }

  /** Messages waiting in a class (including one partly sent). */
  length(cls: Priority): number {
    return this.counts[cls]!
  }

  /** Bytes of a class not yet handed to the transport. */
  queuedBytes(cls: Priority): number {
    return this.bytes[cls]!
  }

  isEmpty(): boolean {
    return this.total === 0
  }

  /**
   * Queues an encoded frame. With `key`, a waiting message of the same class and
   * key that has not started is removed first (a newer move supersedes an older one).
   */
  enqueue(cls: Priority, bytes: Uint8Array, now: number, key?: string): EnqueueResult {
    let result: EnqueueResult = 'queued'
    if (key !== undefined) {
      const old = this.keyed[cls]?.get(key)
      if (old !== undefined && !old.dead && old.offset === 0) {
        this.remove(old)
        this.stats.replaced[cls]++
        result = 'replaced'
      }
    }
    const bound = this.bounds[cls]
    if (bytes.length > bound.maxBytes) {
      this.stats.rejected[cls]++
      return 'rejected'
    }
    while (this.counts[cls]! + 1 > bound.maxCount || this.bytes[cls]! + bytes.length > bound.maxBytes) {
      if (cls !== Priority.HIGH || !this.dropOldest(cls)) {
        this.stats.rejected[cls]++
        return 'rejected'
      }
      this.stats.dropped[cls]++
      result = 'dropped-oldest'
    }
    const entry: Entry = { bytes, cls, enqueuedAt: now, key, offset: 0, dead: false }
    this.queueOf(cls).push(entry)
    this.counts[cls]!++
    this.total++
    this.bytes[cls]! += bytes.length
    if (key !== undefined) (this.keyed[cls] ??= new Map()).set(key, entry)
    return result
  }

  /** The next piece to hand to the transport, or null when nothing waits. */
  next(now: number, fragmentBytes: number): Outgoing | null {
    const entry = this.mode === 'fifo' ? this.head(this.queues[0]) : this.pick(now)
    if (entry === undefined) return null
    const total = entry.bytes.length
    let out: Uint8Array
    let sent: number
    if (entry.offset === 0 && total <= fragmentBytes) {
      out = entry.bytes
      sent = total
    } else {
      sent = Math.min(fragmentBytes - FRAG_HEADER_BYTES, total - entry.offset)
      const piece = entry.bytes.subarray(entry.offset, entry.offset + sent)
      const last = entry.offset + sent === total
      out = encodeFrame(LINK_PROTO, LinkMsg.FRAG, [entry.cls, last ? 1 : 0, piece])
    }
    entry.offset += sent
    this.bytes[entry.cls]! -= sent
    const done = entry.offset === total
    if (done) {
      this.queueOf(entry.cls).shift()
      this.counts[entry.cls]!--
      this.total--
      this.forgetKey(entry)
      const waitMs = now - entry.enqueuedAt
      if (waitMs > this.stats.maxWaitMs[entry.cls]) this.stats.maxWaitMs[entry.cls] = waitMs
    }
    return { bytes: out, cls: entry.cls, done, enqueuedAt: entry.enqueuedAt }
  }

  /** Drops everything (the link closed). */
  clear(): void {
    for (const q of this.queues) q.clear()
    this.counts.fill(0)
    this.total = 0
    this.bytes.fill(0)
    this.keyed.fill(undefined)
  }

  private pick(now: number): Entry | undefined {
    const medium = this.head(this.queues[Priority.MEDIUM])
    const high = this.head(this.queues[Priority.HIGH])
    if (medium !== undefined && now - medium.enqueuedAt >= this.agingBoundMs) {
      if (high !== undefined) this.stats.promoted++
      return medium
    }
    return high ?? medium ?? this.head(this.queues[Priority.LOW])
  }

  /** First live entry of a queue, discarding removed ones in front of it. */
  private head(queue: Deque<Entry>): Entry | undefined {
    let e = queue.peek()
    while (e !== undefined && e.dead) {
      queue.shift()
      e = queue.peek()
    }
    return e
  }

  private queueOf(cls: Priority): Deque<Entry> {
    return this.mode === 'fifo' ? this.queues[0] : this.queues[cls]
  }

  private remove(entry: Entry): void {
    entry.dead = true
    this.counts[entry.cls]!--
    this.total--
    this.bytes[entry.cls]! -= entry.bytes.length - entry.offset
    this.forgetKey(entry)
    const queue = this.queueOf(entry.cls)
    // Removed entries stay as tombstones until they reach the head; compact when
    // they dominate so a stalled link cannot grow the array without bound.
    if (queue.size > 2 * this.total + 64) {
      queue.filter((e) => !e.dead)
    }
  }

  private dropOldest(cls: Priority): boolean {
    for (const e of this.queueOf(cls)) {
      if (!e.dead && e.cls === cls && e.offset === 0) {
        this.remove(e)
        return true
      }
    }
    return false
  }

  private forgetKey(entry: Entry): void {
    const keyed = this.keyed[entry.cls]
    if (entry.key !== undefined && keyed?.get(entry.key) === entry) keyed.delete(entry.key)
  }
}
