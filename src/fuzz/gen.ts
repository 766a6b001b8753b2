import { MAX_MESSAGE_BYTES, decodeValue, encodeValue } from '../core/codec.js'
import type { FuzzRng } from './fuzz-rng.js'
import { mutateBytes, mutateText, mutateValue } from './mutate.js'
import { randomBytes, randomString, randomValue } from './values.js'

/** Makes a fresh valid example of one message kind (each call may differ). */
export type Seed<T = unknown> = () => T

/**
 * Inputs for one decoder, from valid examples of what it decodes: a few
 * unchanged, most mutated structurally (on the decoded value) or byte by byte
 * (on its msgpack or JSON encoding), some random.
 */
export class Gen {
  /** Encodings of pooled examples, made once each. */
  private readonly encoded = new WeakMap<object, Uint8Array>()

  constructor(readonly r: FuzzRng) {}

  /**
   * Examples drawn from a pool of `size` made by `make`, one in twenty
   * replaced by a fresh one: most of a frame's cost would otherwise be
   * building a valid message to break. Nothing writes into a pooled example
   * (mutations copy what they change).
   */
  pool<T>(make: Seed<T>, size = 64): Seed<T> {
    const items: T[] = []
    return () => {
      if (items.length < size) {
        const v = make()
        items.push(v)
        return v
      }
      const i = this.r.int(size)
      if (this.r.chance(0.05)) items[i] = make()
      return items[i]!
    }
  }

  /** msgpack of `v`, from the cache when it is a pooled object. */
  encode(v: unknown): Uint8Array {
    if (typeof v !== 'object' || v === null) return encodeValue(v)
    let b = this.encoded.get(v)
    if (b === undefined) {
      b = encodeValue(v)
      this.encoded.set(v, b)
    }
    return b
  }

  /** A payload as a decoder of msgpack values receives it (what decodeFrame handed on). */
  payload(seed: Seed): unknown {
    const r = this.r
    const k = r.next()
    if (k < 0.08) return seed()
    if (k < 0.5) {
      const v = this.structural(seed)
      return r.chance(0.5) ? v : roundTrip(v)
    }
    if (k < 0.92) {
      for (let tries = 0; tries < 4; tries++) {
        const v = decodeValue(this.mutatedBytes(this.encode(seed()), seed))
        if (v !== undefined) return v
      }
      return undefined
    }
    return randomValue(r)
  }

  /** msgpack bytes derived from `seed`'s values (encoded) or bytes (as they are). */
  bytes(seed: Seed): Uint8Array {
    const r = this.r
    const encoded = (): Uint8Array => {
      const v = seed()
      return v instanceof Uint8Array && r.chance(0.5) ? v : this.encode(v)
    }
    const k = r.next()
    if (k < 0.08) return encoded()
    if (k < 0.4) {
      try {
        return encodeValue(this.structural(seed))
      } catch {
        return this.mutatedBytes(encoded(), seed) // nested deeper than the encoder goes
      }
    }
    if (k < 0.94) return this.mutatedBytes(encoded(), seed)
    return randomBytes(r)
  }

  /** JSON text derived from `seed`'s values (byte fields as hex, as the signaling protocol sends them). */
  text(seed: Seed): string {
    const r = this.r
    const k = r.next()
    if (k < 0.08) return toJson(seed())
    if (k < 0.45) return toJson(this.structural(seed))
    if (k < 0.94) {
      let s = toJson(seed())
      for (let i = 0, n = r.range(1, 3); i < n; i++) s = mutateText(r, s)
      return s
    }
    return r.chance(0.5) ? randomString(r) : toJson(randomValue(r))
  }

  /**
   * One to three structural mutations of a fresh example, sometimes splicing
   * from another. A mutation that makes it larger than a link message could
   * carry is undone: no such value arrives, and building it is what would cost.
   */
  structural(seed: Seed): unknown {
    const r = this.r
    let v = seed()
    const donor = r.chance(0.3) ? seed() : undefined
    for (let i = 0, n = r.range(1, 3); i < n; i++) {
      const m = mutateValue(r, v, donor)
      if (fits(m, MAX_INPUT_BYTES)) v = m
    }
    return v
  }

  /** One to four byte-level mutations, cut at a little over the largest link message. */
  mutatedBytes(b: Uint8Array, seed: Seed): Uint8Array {
    const r = this.r
    const donor = r.chance(0.2) ? this.encode(seed()) : undefined
    for (let i = 0, n = r.range(1, 4); i < n; i++) b = mutateBytes(r, b, donor)
    return b.length > MAX_INPUT_BYTES ? b.subarray(0, MAX_INPUT_BYTES) : b
  }
}

/** Inputs stop a little over what a link carries (MAX_MESSAGE_BYTES), so the bound itself is crossed. */
const MAX_INPUT_BYTES = MAX_MESSAGE_BYTES + 64

/** Whether `v` encodes to about `budget` bytes or fewer (counted without recursion, stopping early). */
function fits(v: unknown, budget: number): boolean {
  const stack = [v]
  let size = 0
  while (stack.length > 0 && size <= budget) {
    const x = stack.pop()
    size += 1
    if (typeof x === 'string') size += x.length
    else if (x instanceof Uint8Array) size += x.length
    else if (Array.isArray(x)) for (const y of x) stack.push(y)
    else if (typeof x === 'object' && x !== null) for (const k of Object.keys(x)) stack.push(k, (x as Record<string, unknown>)[k])
  }
  return size <= budget
}

/** Through the codec and back, as the value would arrive; as it is when the codec refuses it. */
function roundTrip(v: unknown): unknown {
  try {
    const back = decodeValue(encodeValue(v))
    return back === undefined ? v : back
  } catch {
    return v
  }
}

function toJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x)) ?? 'null'
  } catch {
    return '[]' // nested deeper than the stack
  }
}
