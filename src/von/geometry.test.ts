import { describe, expect, it } from 'vitest'
import { LocalDiagram, type Site } from './geometry.js'

/** A small deterministic generator (the test needs no Env). */
function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const site = (x: number, y: number, j = 0): Site => ({ x, y, jx: j * 1e-4, jy: -j * 1e-4 })

function everything(d: LocalDiagram, n: number): { enclosing: number[][]; cells: (readonly (readonly [number, number])[])[]; owner: number } {
  return {
    enclosing: Array.from({ length: n }, (_, i) => d.enclosing(i)),
    cells: Array.from({ length: n }, (_, i) => d.cell(i)),
    owner: d.owner(3.3, 7.7),
  }
}

describe('a local diagram that reuses the one it replaces', () => {
  it('answers exactly as a fresh one, tick after tick, as sites move, come and go', () => {
    const rnd = lcg(42)
    let sites: Site[] = Array.from({ length: 12 }, (_, i) => site(rnd() * 300, rnd() * 300, i))
    let previous: LocalDiagram | undefined
    for (let tick = 0; tick < 200; tick++) {
      // Mostly moves (same count: the arrays are reused), sometimes a site more or less.
      sites = sites.map((s, i) => site(s.x + (rnd() - 0.5) * 20, s.y + (rnd() - 0.5) * 20, i))
      if (tick % 17 === 5) sites.push(site(rnd() * 300, rnd() * 300, sites.length))
      if (tick % 23 === 7 && sites.length > 3) sites.pop()
      const reused = new LocalDiagram(sites, previous)
      const fresh = new LocalDiagram(sites)
      expect(everything(reused, sites.length)).toEqual(everything(fresh, sites.length))
      previous = reused
    }
  })

  it('handles collinear and tiny site sets like a fresh one', () => {
    const sets: Site[][] = [
      [site(0, 0), site(10, 0), site(20, 0), site(30, 0)],
      [site(5, 5), site(15, 15), site(25, 25), site(35, 35)],
      [site(0, 0), site(10, 0), site(5, 8), site(5, 3)],
      [site(1, 1), site(2, 2)],
      [site(7, 3), site(9, 4)],
      [site(1, 1)],
    ]
    let previous: LocalDiagram | undefined
    for (const sites of [...sets, ...sets]) {
      const reused = new LocalDiagram(sites, previous)
      expect(everything(reused, sites.length)).toEqual(everything(new LocalDiagram(sites), sites.length))
      previous = reused
    }
  })
})
