import { describe, expect, it } from 'vitest'
import { approach, CORRECTION_MS, EXTRAPOLATE_MAX_MS, positionAt, predict, pushSample, TRACK_SAMPLES, type Sample } from './interpolation.js'
import { step } from './movement.js'

const AREA = { width: 2000, height: 2000 }

function track(samples: [number, number, number, number, number][]): readonly Sample[] {
  let t: readonly Sample[] = []
  for (const [time, x, y, vx, vy] of samples) t = pushSample(t, { t: time, x, y, vx, vy })
  return t
}

describe('drawing remote avatars from prediction', () => {
  it('extrapolates the newest sample at its velocity, for at most EXTRAPOLATE_MAX_MS', () => {
    const t = pushSample([], { t: 1000, x: 10, y: 20, vx: 50, vy: -10 })
    expect(positionAt(t, 1000)).toEqual({ x: 10, y: 20 })
    expect(positionAt(t, 1500)).toEqual({ x: 35, y: 15 })
    expect(positionAt(t, 1000 + 10 * EXTRAPOLATE_MAX_MS)).toEqual(positionAt(t, 1000 + EXTRAPOLATE_MAX_MS))
    expect(positionAt([], 0)).toBeUndefined()
  })

  it('holds a sample without velocity', () => {
    const t = pushSample([], { t: 1000, x: 5, y: 5 })
    expect(positionAt(t, 0)).toEqual({ x: 5, y: 5 })
    expect(positionAt(t, 5000)).toEqual({ x: 5, y: 5 })
  })

  it('a correction does not jump: it starts where the old prediction was and fades out over CORRECTION_MS', () => {
    // Walking east at 50/s; the mover turned north: the new sample says (40, 10) heading north.
    const t = track([[0, 0, 0, 50, 0], [1000, 40, 10, 0, 50]])
    expect(positionAt(t, 1000)).toEqual({ x: 50, y: 0 })
    const half = positionAt(t, 1000 + CORRECTION_MS / 2)!
    expect(half.x).toBeCloseTo(45)
    expect(half.y).toBeCloseTo(10 + 5 - 5)
    expect(positionAt(t, 1000 + CORRECTION_MS)).toEqual(predict({ t: 1000, x: 40, y: 10, vx: 0, vy: 50 }, 1000 + CORRECTION_MS))
  })

  it('moves smoothly through corrections: frames never jump more than the motion allows', () => {
    // Samples every 100 ms with jittered arrival, each a little off the straight line.
    const samples: [number, number, number, number, number][] = []
    for (let i = 0; i <= 20; i++) samples.push([i * 100 + (i % 3) * 7, i * 5 + (i % 2) * 0.5, 0, 50, 0])
    let t: readonly Sample[] = []
    let last: number | undefined
    for (let now = 0, k = 0; now < 2100; now += 16) {
      while (k < samples.length && samples[k]![0] <= now) {
        const [time, x, y, vx, vy] = samples[k++]!
        t = pushSample(t, { t: time, x, y, vx, vy })
      }
      const x = positionAt(t, now)?.x
      if (x !== undefined && last !== undefined) expect(Math.abs(x - last)).toBeLessThan(2)
      last = x
    }
  })

  it('keeps a bounded track and ignores samples from the past', () => {
    let t: readonly Sample[] = []
    for (let i = 0; i < 50; i++) t = pushSample(t, { t: i * 100, x: i, y: 0 })
    expect(t).toHaveLength(TRACK_SAMPLES)
    expect(pushSample(t, { t: 0, x: 99, y: 0 })).toBe(t)
  })

  it('approaches a target exponentially, independent of frame rate', () => {
    let a = 0
    for (let i = 0; i < 10; i++) a = approach(a, 100, 10, 50)
    const b = approach(0, 100, 100, 50)
    expect(a).toBeCloseTo(b, 6)
  })
})

describe('movement', () => {
  it('walks at UNITS_PER_SEC in the held direction, diagonals normalised', () => {
    const r = step({ x: 100, y: 100 }, { held: { x: 1, y: 1 }, target: null }, 1000, AREA)
    expect(Math.hypot(r.at.x - 100, r.at.y - 100)).toBeCloseTo(50)
  })

  it('walks towards a click target, stops on it, and keys cancel it', () => {
    let at = { x: 0, y: 0 }
    let target: { x: number; y: number } | null = { x: 30, y: 40 }
    for (let i = 0; i < 20 && target !== null; i++) ({ at, target } = step(at, { held: { x: 0, y: 0 }, target }, 100, AREA))
    expect(at).toEqual({ x: 30, y: 40 })
    expect(target).toBeNull()
    const r = step({ x: 0, y: 0 }, { held: { x: 1, y: 0 }, target: { x: 500, y: 500 } }, 100, AREA)
    expect(r.target).toBeNull()
  })

  it('stays inside the world', () => {
    const r = step({ x: 1, y: 1999 }, { held: { x: -1, y: 1 }, target: null }, 1000, AREA)
    expect(r.at).toEqual({ x: 0, y: 2000 })
  })

  it('does not walk into water: slides along a shore, stops at a corner, walks out when already in it', () => {
    // Water where x > 500 (an east coast), and where y > 500 (a south coast).
    const land = (x: number, y: number): boolean => x <= 500 && y <= 500
    const east = step({ x: 490, y: 100 }, { held: { x: 1, y: 1 }, target: null }, 1000, AREA, land)
    expect(east.at).toEqual({ x: 490, y: 100 + 50 / Math.SQRT2 })
    const corner = step({ x: 495, y: 495 }, { held: { x: 0, y: 0 }, target: { x: 800, y: 800 } }, 1000, AREA, land)
    expect(corner).toEqual({ at: { x: 495, y: 495 }, target: null })
    const out = step({ x: 600, y: 100 }, { held: { x: -1, y: 0 }, target: null }, 1000, AREA, land)
    expect(out.at).toEqual({ x: 550, y: 100 })
  })
})
