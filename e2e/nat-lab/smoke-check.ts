/** One line of the smoke test's table. */
export interface Check {
  readonly name: string
  readonly ok: boolean
  /** What was seen, so a failure explains itself. */
  readonly detail: string
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Whether `ip` (dotted quad) lies in the lab's 198.18.0.0/15. */
export function inLabRange(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number)
  return a === 198 && (b === 18 || b === 19)
}
