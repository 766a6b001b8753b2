import type { SeededRng } from '../rng.js'

/** A Weibull distribution of durations. */
export interface Weibull {
  readonly shape: number
  readonly scaleMs: number
}

/** KAD session lengths (Steiner et al., spec kademlia.md): shape 0.615, scale 169.5 min. */
export const KAD_SESSION: Weibull = { shape: 0.615, scaleMs: 169.5 * 60_000 }
/** KAD inter-session (offline) times: shape 0.476, scale 413.7 min. */
export const KAD_INTERSESSION: Weibull = { shape: 0.476, scaleMs: 413.7 * 60_000 }

export function sampleWeibull(rng: SeededRng, w: Weibull): number {
  return w.scaleMs * Math.pow(-Math.log(1 - rng.next()), 1 / w.shape)
}

export function weibullMeanMs(w: Weibull): number {
  return w.scaleMs * gamma(1 + 1 / w.shape)
}

/** One online period of a player, clipped to the run: [startMs, endMs), endMs Infinity if still online at the end. */
export interface Session {
  readonly startMs: number
  readonly endMs: number
  /** The session began before the run (the player was online when it started). */
  readonly ongoing: boolean
}

/**
 * A player's sessions within [0, untilMs). The on/off alternation starts
 * `warmupMs` before the run, so at time 0 players are online or offline as in
 * the steady state of the renewal process, not all fresh.
 */
export function playerSessions(rng: SeededRng, untilMs: number, warmupMs: number, on = KAD_SESSION, off = KAD_INTERSESSION): Session[] {
  const out: Session[] = []
  let t = -warmupMs - rng.next() * sampleWeibull(rng, off)
  for (;;) {
    const start = t + sampleWeibull(rng, off)
    if (start >= untilMs) break
    const end = start + sampleWeibull(rng, on)
    if (end > 0) out.push({ startMs: Math.max(0, start), endMs: end >= untilMs ? Infinity : end, ongoing: start < 0 })
    t = end
  }
  return out
}

/** Lanczos approximation of the gamma function (g = 7), accurate to ~1e-13 for x > 0.5. */
export function gamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x))
  const z = x - 1
  let a = c[0]!
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i)
  return Math.sqrt(2 * Math.PI) * Math.pow(t, z + 0.5) * Math.exp(-t) * a
}
