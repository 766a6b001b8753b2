import type { SeededRng } from './rng.js'

/** Weibull deviate: scale * (-ln U)^(1/shape). */
export function weibull(rng: SeededRng, shape: number, scale: number): number {
  return scale * Math.pow(-Math.log(1 - rng.next()), 1 / shape)
}

/** Session-time models (minutes or any unit, as given). */
export type SessionModel =
  | { kind: 'exponential'; mean: number }
  | { kind: 'weibull'; shape: number; scale: number }

export function sampleSession(rng: SeededRng, model: SessionModel): number {
  return model.kind === 'exponential' ? rng.exponential(model.mean) : weibull(rng, model.shape, model.scale)
}

/** KAD-measured session times (Steiner et al.): shape 0.615, scale 169.5 min. */
export const KAD_SESSION: SessionModel = { kind: 'weibull', shape: 0.615, scale: 169.5 }
/** KAD-measured inter-session (offline) times: shape 0.476, scale 413.7 min. */
export const KAD_INTER_SESSION: SessionModel = { kind: 'weibull', shape: 0.476, scale: 413.7 }

/** Picks `fraction` of `count` indices to fail at once, uniformly, in a seeded order. */
export function massFailure(rng: SeededRng, count: number, fraction: number): number[] {
  const idx = Array.from({ length: count }, (_, i) => i)
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
  }
  return idx.slice(0, Math.round(count * fraction)).sort((a, b) => a - b)
}
