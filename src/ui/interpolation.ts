/**
 * Remote avatars are drawn from the same prediction the overlay uses (dead
 * reckoning, see VonPeer.move): from the newest sample, at its velocity. A
 * sample that corrects the prediction does not make the avatar jump: the
 * difference fades out over CORRECTION_MS. Pure functions over immutable tracks.
 */

export interface Sample {
  /** Local receive time (ms, the page's clock). */
  readonly t: number
  readonly x: number
  readonly y: number
  /** Velocity (units/s) the sender reported; absent: standing. */
  readonly vx?: number
  readonly vy?: number
}

/** Samples kept per remote avatar: the newest, and the one its correction fades from. */
export const TRACK_SAMPLES = 2
/** A correction (the newest sample against the prediction from the one before) fades out over this long. */
export const CORRECTION_MS = 200
/**
 * An avatar is extrapolated at most this long past its newest sample: about
 * two of the sender's heartbeats (VonInit.moveHeartbeatMs), so a sender that
 * went silent does not walk off across the map.
 */
export const EXTRAPOLATE_MAX_MS = 6000

/** Appends a sample, keeping the newest TRACK_SAMPLES; a sample older than the newest is ignored. */
export function pushSample(track: readonly Sample[], s: Sample, max = TRACK_SAMPLES): readonly Sample[] {
  const last = track[track.length - 1]
  if (last !== undefined && s.t < last.t) return track
  const out = [...track, s]
  return out.length > max ? out.slice(out.length - max) : out
}

/** Where sample `s` predicts its avatar at time `t`. */
export function predict(s: Sample, t: number): { x: number; y: number } {
  const dt = Math.min(Math.max(0, t - s.t), EXTRAPOLATE_MAX_MS) / 1000
  return { x: s.x + (s.vx ?? 0) * dt, y: s.y + (s.vy ?? 0) * dt }
}

/** Where to draw an avatar at time `now`: its prediction, plus what is left of the last correction. */
export function positionAt(track: readonly Sample[], now: number): { x: number; y: number } | undefined {
  const n = track.length
  if (n === 0) return undefined
  const last = track[n - 1]!
  const at = predict(last, now)
  const prev = track[n - 2]
  const age = now - last.t
  if (prev === undefined || age >= CORRECTION_MS) return at
  // Where the avatar was drawn when the sample came, less where it says it is.
  const was = predict(prev, last.t)
  const fade = 1 - Math.max(0, age) / CORRECTION_MS
  return { x: at.x + (was.x - last.x) * fade, y: at.y + (was.y - last.y) * fade }
}

/** Exponential smoothing towards a target, frame-rate independent (`tauMs`: time constant). */
export function approach(from: number, to: number, dtMs: number, tauMs: number): number {
  return to + (from - to) * Math.exp(-dtMs / tauMs)
}
