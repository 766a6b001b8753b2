/**
 * Remote avatars move in steps (one VON MOVE every ~100 ms); drawing them where
 * they were `delayMs` ago, between the two samples around that instant, makes
 * the motion smooth at any frame rate. Pure functions over immutable tracks.
 */

export interface Sample {
  /** Local receive time (ms, the page's clock). */
  readonly t: number
  readonly x: number
  readonly y: number
}

/** Samples kept per remote avatar. */
export const TRACK_SAMPLES = 8
/** How far behind the newest sample avatars are drawn: about one move interval, plus jitter. */
export const INTERP_DELAY_MS = 120
/** A sample this long after the previous one follows a pause: motion restarts from here. */
export const PAUSE_MS = 400
/** The usual interval between moves; a resumed motion is spread over it. */
export const MOVE_INTERVAL_MS = 100

/**
 * Appends a sample. After a pause the last position is re-stamped one interval
 * back, so the avatar glides from it instead of crawling across the pause.
 */
export function pushSample(track: readonly Sample[], s: Sample, max = TRACK_SAMPLES): readonly Sample[] {
  const last = track[track.length - 1]
  let out: Sample[]
  if (last !== undefined && s.t < last.t) return track
  if (last !== undefined && s.t - last.t > PAUSE_MS) {
    out = [{ t: s.t - MOVE_INTERVAL_MS, x: last.x, y: last.y }, s]
  } else {
    out = [...track, s]
  }
  return out.length > max ? out.slice(out.length - max) : out
}

/** Where to draw an avatar at time `now`: its track `delayMs` ago, linearly interpolated. */
export function positionAt(track: readonly Sample[], now: number, delayMs = INTERP_DELAY_MS): { x: number; y: number } | undefined {
  const n = track.length
  if (n === 0) return undefined
  const t = now - delayMs
  const first = track[0]!
  if (t <= first.t) return { x: first.x, y: first.y }
  for (let i = n - 1; i > 0; i--) {
    const a = track[i - 1]!
    const b = track[i]!
    if (t >= a.t && t <= b.t) {
      const f = b.t === a.t ? 1 : (t - a.t) / (b.t - a.t)
      return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f }
    }
  }
  const last = track[n - 1]!
  return { x: last.x, y: last.y }
}

/** Exponential smoothing towards a target, frame-rate independent (`tauMs`: time constant). */
export function approach(from: number, to: number, dtMs: number, tauMs: number): number {
  return to + (from - to) * Math.exp(-dtMs / tauMs)
}
