/**
 * A world split into shards, each with its own event queue, exchanges what one
 * shard's peers send another's as records: a kind, a virtual time, one integer
 * (a connection id, a peer index) and optional bytes. A shard collects its
 * records for each other shard in one buffer per synchronisation window and
 * hands the buffer over whole (transferable, no per-record object).
 *
 * Every record must take effect at least one window after it was made: the
 * network's smallest one-way latency is the lookahead (see `ShardPort`).
 */

/** Record kinds (the network's and the bootstrap node's; worlds add their own above 16). */
export const RecordKind = {
  /** A message reaches connection `a` at `time`. */
  DATA: 1,
  /** The responder's end `a` opens at `time` (ICE, DTLS and SCTP done). */
  OPENED: 2,
  /** The other end of connection `a` closed; it hears at `time`. */
  CLOSED: 3,
  /** The bootstrap node delivers signaling (JSON in the bytes) at `time`. */
  SIGNAL: 4,
} as const

/** What a shard's network and bootstrap node send other shards through. */
export interface ShardPort {
  /** This shard, and how many there are. */
  readonly shard: number
  readonly shards: number
  /** Earliest virtual time a record made now may take effect (the next window). */
  readonly horizon: number
  post(to: number, kind: number, time: number, a: number, bytes?: Uint8Array): void
}

const HEADER = 20
/**
 * Length field of a record whose bytes are the previous record's: a broadcast
 * reaches several peers of one shard, which then share one view of it, as
 * receivers in one shard share one bytes object (and its decoded frame).
 */
const SAME_BYTES = 0xffff_ffff

/** One growable buffer of records for one destination. */
export class RecordWriter {
  private buf = new Uint8Array(64 * 1024)
  private view = new DataView(this.buf.buffer)
  private n = 0
  private last: Uint8Array | undefined
  count = 0

  write(kind: number, time: number, a: number, bytes: Uint8Array | undefined): void {
    const same = bytes !== undefined && bytes === this.last
    const len = bytes === undefined || same ? 0 : bytes.length
    this.reserve(HEADER + len)
    const v = this.view
    const at = this.n
    v.setUint32(at, kind, true)
    v.setFloat64(at + 4, time, true)
    v.setUint32(at + 12, a, true)
    v.setUint32(at + 16, same ? SAME_BYTES : len, true)
    if (bytes !== undefined && !same) this.buf.set(bytes, at + HEADER)
    this.last = bytes
    this.n = at + HEADER + len
    this.count++
  }

  /** The records written so far, in a buffer of their own; the writer starts empty. */
  take(): ArrayBuffer {
    const out = this.buf.buffer.slice(0, this.n)
    this.n = 0
    this.count = 0
    this.last = undefined
    return out
  }

  private reserve(extra: number): void {
    if (this.n + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.n + extra) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.n))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
}

/** Calls `fn` for each record in `buffer`, in the order written; bytes are views into it (shared by repeats). */
export function readRecords(buffer: ArrayBuffer, fn: (kind: number, time: number, a: number, bytes: Uint8Array) => void): void {
  const view = new DataView(buffer)
  let at = 0
  let last: Uint8Array | undefined
  while (at + HEADER <= buffer.byteLength) {
    const kind = view.getUint32(at, true)
    const time = view.getFloat64(at + 4, true)
    const a = view.getUint32(at + 12, true)
    const len = view.getUint32(at + 16, true)
    if (len === SAME_BYTES) {
      if (last === undefined) throw new Error('invariant: a shard record repeats bytes before any')
      fn(kind, time, a, last)
      at += HEADER
      continue
    }
    if (at + HEADER + len > buffer.byteLength) throw new Error('invariant: truncated shard record')
    last = new Uint8Array(buffer, at + HEADER, len)
    fn(kind, time, a, last)
    at += HEADER + len
  }
}

/** The outboxes of one shard: one writer per other shard. */
export class ShardOutbox implements ShardPort {
  /** Set by the window loop; Infinity once the run is over (records are dropped). */
  horizon = 0
  private readonly writers: RecordWriter[]

  constructor(
    readonly shard: number,
    readonly shards: number,
  ) {
    this.writers = Array.from({ length: shards }, () => new RecordWriter())
  }

  post(to: number, kind: number, time: number, a: number, bytes?: Uint8Array): void {
    if (to === this.shard) throw new Error('invariant: a shard posted a record to itself')
    if (this.horizon === Infinity) return // the run is over: nothing takes effect any more
    if (time < this.horizon) throw new Error(`invariant: a record for ${time} ms crosses shards inside the window (horizon ${this.horizon} ms)`)
    this.writers[to]!.write(kind, time, a, bytes)
  }

  /** The buffer for `to` since the last take. */
  take(to: number): ArrayBuffer {
    return this.writers[to]!.take()
  }
}
