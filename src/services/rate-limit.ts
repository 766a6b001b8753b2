/**
 * Per-sender rate limits for services: at most `max` events in any window of
 * `windowMs` per key. The number of keys is bounded; at the bound the key
 * heard from least recently is forgotten (it starts afresh, which only ever
 * lets a forgotten sender through, never blocks an honest one).
 */
export class SlidingWindowLimiter<K> {
  private readonly recent = new Map<K, number[]>()

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 256,
  ) {}

  /** Records an event of `key` at `now` and says whether it is within the limit. */
  allow(key: K, now: number): boolean {
    let times = this.recent.get(key)
    if (times === undefined) {
      if (this.recent.size >= this.maxKeys) this.recent.delete(this.recent.keys().next().value as K)
      times = []
    } else {
      this.recent.delete(key) // re-inserted below: the map stays in least-recently-heard order
    }
    this.recent.set(key, times)
    while (times.length > 0 && now - times[0]! >= this.windowMs) times.shift()
    if (times.length >= this.max) return false
    times.push(now)
    return true
  }

  forget(key: K): void {
    this.recent.delete(key)
  }
}

// Control characters, and format characters (bidi overrides, zero-width joiners) that let a
// name or a message rewrite how the text around it is displayed.
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu

/**
 * Text from a remote peer or the user, made safe to show: unsafe characters
 * removed, runs of white space collapsed, trimmed, and cut to `maxChars` UTF-16
 * units without splitting a surrogate pair.
 */
export function sanitizeText(text: string, maxChars: number): string {
  const clean = text.replace(UNSAFE, '').replace(/\s+/gu, ' ').trim()
  if (clean.length <= maxChars) return clean
  let out = ''
  for (const ch of clean) {
    if (out.length + ch.length > maxChars) break
    out += ch
  }
  return out.trimEnd()
}
