import { describe, expect, it } from 'vitest'
import { KeyboardMobility, type Point } from './mobility.js'
import { SeededRng } from './rng.js'

const SEED = process.env.SEED ?? '3'
const STEPS_PER_SEC = 10
const SPEED = 5

/** Every peer's position at each step: paths[i][k]. */
function walk(seed: string, peers: number, steps: number, side: number, centre = false): Point[][] {
  const m = new KeyboardMobility({ width: side, height: side }, SPEED, new SeededRng(seed, 'mobility'), { stepsPerSec: STEPS_PER_SEC })
  const pos = Array.from({ length: peers }, (_, i) => {
    const p = m.place(i)
    return centre ? { x: side / 2, y: side / 2 } : p
  })
  const paths = pos.map((p) => [{ ...p }])
  for (let k = 0; k < steps; k++) {
    pos.forEach((p, i) => {
      m.step(i, p)
      paths[i]!.push({ ...p })
    })
  }
  return paths
}

/** The step vector at each step, rounded (so a held key gives the same one every step). */
const moves = (path: readonly Point[]): string[] => path.slice(1).map((p, k) => `${(p.x - path[k]!.x).toFixed(6)},${(p.y - path[k]!.y).toFixed(6)}`)

describe('the keyboard model', () => {
  it(`changes keys every 0.3-3 s: turns, diagonals, pauses (SEED=${SEED})`, () => {
    // A world too big to reach an edge: every change of the step vector is a key change.
    const paths = walk(SEED, 200, 1200, 1e6, true)
    const runs: number[] = []
    let pauses = 0
    const directions = new Set<string>()
    for (const path of paths) {
      const m = moves(path)
      if (m.every((v) => v === m[0])) continue
      let from = 0
      for (let k = 1; k <= m.length; k++) {
        if (k < m.length && m[k] === m[k - 1]) continue
        // The first run began before the first step could show it; the last one is cut off.
        if (from > 0 && k < m.length) runs.push(k - from)
        if (m[k - 1] === '0.000000,0.000000' && from > 0 && k < m.length) pauses++
        directions.add(m[k - 1]!)
        from = k
      }
    }
    expect(runs.length, `SEED=${SEED}`).toBeGreaterThan(1000)
    expect(Math.min(...runs) / STEPS_PER_SEC, `SEED=${SEED}`).toBeGreaterThanOrEqual(0.3)
    expect(Math.max(...runs) / STEPS_PER_SEC, `SEED=${SEED}`).toBeLessThanOrEqual(3)
    const meanSeconds = runs.reduce((a, b) => a + b, 0) / runs.length / STEPS_PER_SEC
    expect(meanSeconds, `SEED=${SEED}`).toBeGreaterThan(1.4)
    expect(meanSeconds, `SEED=${SEED}`).toBeLessThan(1.9)
    // Players pause now and then, and walk in all 8 directions at the same speed.
    expect(pauses / runs.length, `SEED=${SEED}`).toBeGreaterThan(0.05)
    expect(pauses / runs.length, `SEED=${SEED}`).toBeLessThan(0.25)
    directions.delete('0.000000,0.000000')
    expect(directions.size, `SEED=${SEED}`).toBe(8)
    for (const d of directions) expect(Math.hypot(...d.split(',').map(Number)), d).toBeCloseTo(SPEED, 5)
  })

  it(`leaves about 10 % of the players idle; the others move (SEED=${SEED})`, () => {
    const paths = walk(SEED, 2000, 100, 1200)
    const idle = paths.filter((path) => path.every((p) => p.x === path[0]!.x && p.y === path[0]!.y)).length
    expect(idle / paths.length, `SEED=${SEED}`).toBeGreaterThan(0.08)
    expect(idle / paths.length, `SEED=${SEED}`).toBeLessThan(0.12)
  })

  it(`stays inside the world, turning at the edge rather than sticking to it (SEED=${SEED})`, () => {
    const side = 60
    const paths = walk(SEED, 100, 3000, side)
    let atEdge = 0
    let total = 0
    const outside: Point[] = []
    for (const path of paths) {
      for (const p of path) {
        total++
        if (p.x < 0 || p.x > side || p.y < 0 || p.y > side) outside.push(p)
        if (p.x < SPEED || p.x > side - SPEED || p.y < SPEED || p.y > side - SPEED) atEdge++
      }
    }
    expect(outside, `SEED=${SEED}`).toEqual([])
    // A band one step wide along the edges covers 31 % of this world; a player stuck there would fill it.
    expect(atEdge / total, `SEED=${SEED}`).toBeLessThan(0.45)
    // Moving players cover the world: both halves of it.
    const moving = paths.filter((path) => path.some((p) => p.x !== path[0]!.x))
    expect(moving.every((path) => path.some((p) => p.x < side / 2) && path.some((p) => p.x > side / 2)), `SEED=${SEED}`).toBe(true)
  })

  it('is deterministic for a seed, and another seed walks elsewhere', () => {
    expect(walk('a', 50, 300, 1200)).toEqual(walk('a', 50, 300, 1200))
    expect(walk('b', 50, 300, 1200)).not.toEqual(walk('a', 50, 300, 1200))
  })
})
