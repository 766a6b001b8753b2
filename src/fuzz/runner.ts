import { FuzzRng } from './fuzz-rng.js'
import { Gen } from './gen.js'
import { FuzzViolation, type FuzzCase, type FuzzTarget } from './target.js'

export interface FuzzFailure {
  readonly frame: number
  readonly kind: 'throw' | 'violation'
  readonly message: string
  /** The input, shortened, for the report; the seed and frame number reproduce it in full. */
  readonly input: string
}

export interface FuzzResult {
  readonly name: string
  readonly frames: number
  readonly accepted: number
  readonly rejected: number
  /** Frames the decoder threw on. */
  readonly throws: number
  /** Frames whose result broke a bound or a state rule. */
  readonly violations: number
  readonly ms: number
  /** The slowest single decode (generation excluded). */
  readonly slowestMs: number
  /** The first few failures. */
  readonly failures: readonly FuzzFailure[]
}

const MAX_FAILURES = 5

/** Calls at points of a run, with the case (and so its state) still alive: for heap measurements. */
export interface RunHooks {
  /** Before each of these frames (ascending). */
  at?: { frames: readonly number[]; call(frame: number, c: FuzzCase): void }
  /** After the last frame. */
  end?(c: FuzzCase): void
}

/**
 * Runs `frames` inputs through one target. Its inputs come from the stream
 * `seed/name` alone, so a failure at frame k replays with the same seed and
 * `--only name --frames k+1`.
 */
export function runTarget(target: FuzzTarget, frames: number, seed: string, hooks: RunHooks = {}): FuzzResult {
  const gen = new Gen(new FuzzRng(`${seed}/${target.name}`))
  const c = target.create(gen)
  let accepted = 0
  let throws = 0
  let violations = 0
  let slowestMs = 0
  const failures: FuzzFailure[] = []
  const fail = (frame: number, kind: FuzzFailure['kind'], err: unknown, input: unknown): void => {
    if (failures.length < MAX_FAILURES) failures.push({ frame, kind, message: err instanceof Error ? err.message : String(err), input: describe(input) })
  }
  const start = performance.now()
  let hookMs = 0
  let nextHook = 0
  for (let i = 0; i < frames; i++) {
    if (hooks.at !== undefined && i === hooks.at.frames[nextHook]) {
      const t = performance.now()
      hooks.at.call(i, c)
      nextHook++
      hookMs += performance.now() - t
    }
    const input = c.next()
    let out: unknown
    const t0 = performance.now()
    try {
      out = c.run(input)
    } catch (err) {
      throws++
      fail(i, 'throw', err, input)
      continue
    }
    const dt = performance.now() - t0
    if (dt > slowestMs) slowestMs = dt
    try {
      c.check(input, out)
    } catch (err) {
      if (!(err instanceof FuzzViolation)) throw err // a bug in the check itself
      violations++
      fail(i, 'violation', err, input)
    }
    if (c.accepted(out)) accepted++
  }
  const ms = performance.now() - start - hookMs
  hooks.end?.(c)
  return { name: target.name, frames, accepted, rejected: frames - accepted - throws, throws, violations, ms, slowestMs, failures }
}

/** A short, safe description of an input: never recursive, never huge. */
export function describe(v: unknown, budget = 300): string {
  if (v instanceof Uint8Array) {
    const hex = Buffer.from(v.subarray(0, budget / 2)).toString('hex')
    return `bytes(${v.length}) ${hex}${v.length > budget / 2 ? '...' : ''}`
  }
  if (typeof v === 'string') return `${JSON.stringify(v.slice(0, budget))}${v.length > budget ? `... (${v.length} chars)` : ''}`
  if (typeof v !== 'object' || v === null) return String(v)
  if (budget < 20) return Array.isArray(v) ? '[...]' : '{...}'
  const parts: string[] = []
  let left = budget
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v)
  for (const [k, x] of entries) {
    if (left <= 0) {
      parts.push(`... (${entries.length} items)`)
      break
    }
    const s = Array.isArray(v) ? describe(x, left / 2) : `${k}: ${describe(x, left / 2)}`
    parts.push(s)
    left -= s.length + 2
  }
  return Array.isArray(v) ? `[${parts.join(', ')}]` : `{${parts.join(', ')}}`
}
