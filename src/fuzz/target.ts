import { Gen, type Seed } from './gen.js'

/** A decoder returned something outside its documented bounds, or a rejected frame changed state. */
export class FuzzViolation extends Error {
  override readonly name = 'FuzzViolation'
}

/** Throws a FuzzViolation saying `what` unless `cond` holds. */
export function need(cond: unknown, what: string): asserts cond {
  if (!cond) throw new FuzzViolation(what)
}

/**
 * One decoder under fuzzing, made per run (stateful decoders keep their state
 * here). `run` is the code under test: whatever it throws is a decoder throw.
 * `check` throws a FuzzViolation when the result breaks a bound or a state rule.
 */
export interface FuzzCase<I = unknown, O = unknown> {
  next(): I
  run(input: I): O
  accepted(out: O): boolean
  check(input: I, out: O): void
}

/** A case typed where it is written, handed to the runner (which only passes its own values back). */
export function fuzzCase<I, O>(c: FuzzCase<I, O>): FuzzCase<unknown, unknown> {
  return c as unknown as FuzzCase<unknown, unknown>
}

export interface FuzzTarget {
  /** Short name for `--only` and the table. */
  readonly name: string
  /** What it fuzzes: file and function. */
  readonly what: string
  create(gen: Gen): FuzzCase<unknown, unknown>
}

/** A stateless decoder of msgpack values: null for bad input. */
export function valueTarget<O>(name: string, what: string, seed: (g: Gen) => Seed, decode: (v: unknown) => O | null, check: (out: O, input: unknown) => void): FuzzTarget {
  return {
    name,
    what,
    create(gen) {
      const s = gen.pool(seed(gen))
      return fuzzCase<unknown, O | null>({
        next: () => gen.payload(s),
        run: (input) => decode(input),
        accepted: (out) => out !== null,
        check: (input, out) => (out === null ? undefined : check(out, input)),
      })
    },
  }
}

/** A stateless decoder of msgpack bytes: null for bad input. */
export function bytesTarget<O>(name: string, what: string, seed: (g: Gen) => Seed, decode: (b: Uint8Array) => O | null, check: (out: O, input: Uint8Array) => void): FuzzTarget {
  return {
    name,
    what,
    create(gen) {
      const s = gen.pool(seed(gen))
      return fuzzCase<Uint8Array, O | null>({
        next: () => gen.bytes(s),
        run: (input) => decode(input),
        accepted: (out) => out !== null,
        check: (input, out) => (out === null ? undefined : check(out, input)),
      })
    },
  }
}

/** A stateless parser of JSON text: null for bad input. */
export function textTarget<O>(name: string, what: string, seed: (g: Gen) => Seed, decode: (text: string) => O | null, check: (out: O, input: string) => void): FuzzTarget {
  return {
    name,
    what,
    create(gen) {
      const s = gen.pool(seed(gen))
      return fuzzCase<string, O | null>({
        next: () => gen.text(s),
        run: (input) => decode(input),
        accepted: (out) => out !== null,
        check: (input, out) => (out === null ? undefined : check(out, input)),
      })
    },
  }
}
