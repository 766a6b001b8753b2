import { describe, expect, it } from 'vitest'
import { approach, INTERP_DELAY_MS, MOVE_INTERVAL_MS, positionAt, pushSample, TRACK_SAMPLES, type Sample } from './interpolation.js'
import { step } from './movement.js'

const AREA = { width: 2000, height: 2000 }

function track(samples: [number, number, number][]): readonly Sample[] {
  let t: readonly Sample[] = []
  for (const [time, x, y] of samples) t = pushSample(t, { t: time, x, y })
  return t
}

describe('interpolation', () => {
  it('draws an avatar between the two samples around now - delay', () => {
    const t = track([[0, 0, 0], [100, 10, 0], [200, 20, 0]])
    expect(positionAt(t, 150 + INTERP_DELAY_MS)).toEqual({ x: 15, y: 0 })
    expect(positionAt(t, 100 + INTERP_DELAY_MS)).toEqual({ x: 10, y: 0 })
  })

  it('holds the first and the last sample outside the track', () => {
    const t = track([[1000, 5, 5], [1100, 6, 5]])
    expect(positionAt(t, 0)).toEqual({ x: 5, y: 5 })
    expect(positionAt(t, 5000)).toEqual({ x: 6, y: 5 })
    expect(positionAt([], 0)).toBeUndefined()
  })

  it('moves smoothly: steps between frames never jump more than the motion allows', () => {
    const samples: [number, number, number][] = []
    for (let i = 0; i <= 20; i++) samples.push([i * 100 + (i % 3) * 7, i * 5, 0])
    const t = track(samples)
    let last = positionAt(t, 300)!.x
    for (let now = 316; now < 2100; now += 16) {
      const x = positionAt(t, now)!.x
      expect(x - last).toBeGreaterThanOrEqual(0)
      expect(x - last).toBeLessThan(2)
      last = x
    }
  })

  it('after a pause, glides from the old position over one interval instead of crawling', () => {
    const t = track([[0, 0, 0], [5000, 50, 0]])
    expect(t).toHaveLength(2)
    expect(t[0]).toEqual({ t: 5000 - MOVE_INTERVAL_MS, x: 0, y: 0 })
    expect(positionAt(t, 5000 - MOVE_INTERVAL_MS / 2, 0)!.x).toBeCloseTo(25)
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
