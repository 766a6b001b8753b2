/** Invariant check: a failure is a bug in our code, never a reaction to remote input. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new Error(`invariant: ${message}`)
}
