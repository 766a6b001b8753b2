import { describe, expect, it } from 'vitest'
import { generateTerrain, nearestWalkable, seedOf, Tile, tileAt, walkable } from './terrain.js'

const AREA = { width: 2000, height: 2000 }

describe('generateTerrain', () => {
  it('derives the same map from the same world name, byte for byte', () => {
    const a = generateTerrain(seedOf('main'), AREA)
    const b = generateTerrain(seedOf('main'), AREA)
    expect(a.tiles).toEqual(b.tiles)
    expect(a.shade).toEqual(b.shade)
    expect(a.trees).toEqual(b.trees)
  })

  it('gives another world another map', () => {
    const a = generateTerrain(seedOf('main'), AREA)
    const b = generateTerrain(seedOf('other'), AREA)
    let differ = 0
    for (let i = 0; i < a.tiles.length; i++) if (a.tiles[i] !== b.tiles[i]) differ++
    expect(differ / a.tiles.length).toBeGreaterThan(0.2)
  })

  it('covers the world with a playable mix: mostly land, some water, a rim of water', () => {
    const t = generateTerrain(seedOf('main'), AREA)
    expect(t.cols).toBe(100)
    expect(t.rows).toBe(100)
    const count = new Map<number, number>()
    for (const k of t.tiles) count.set(k, (count.get(k) ?? 0) + 1)
    const land = (count.get(Tile.GRASS) ?? 0) + (count.get(Tile.MEADOW) ?? 0) + (count.get(Tile.FOREST) ?? 0) + (count.get(Tile.SAND) ?? 0)
    expect(land / t.tiles.length).toBeGreaterThan(0.4)
    expect(((count.get(Tile.WATER) ?? 0) + (count.get(Tile.DEEP) ?? 0)) / t.tiles.length).toBeGreaterThan(0.05)
    expect(tileAt(t, 5, 5)).toBeLessThanOrEqual(Tile.WATER)
    expect(tileAt(t, 1995, 1995)).toBeLessThanOrEqual(Tile.WATER)
  })

  it('keeps trees inside the world, under the cap, on land', () => {
    const t = generateTerrain(seedOf('main'), { ...AREA, maxTrees: 300 })
    expect(t.trees.length).toBeGreaterThan(50)
    expect(t.trees.length).toBeLessThanOrEqual(300)
    for (const tree of t.trees) {
      expect(tree.x).toBeGreaterThanOrEqual(0)
      expect(tree.y).toBeLessThanOrEqual(AREA.height)
      expect([Tile.FOREST, Tile.GRASS]).toContain(tileAt(t, tree.x, tree.y))
    }
  })

  it('hashes names stably (FNV-1a)', () => {
    expect(seedOf('')).toBe(0x811c9dc5)
    expect(seedOf('main')).toBe(seedOf('main'))
    expect(seedOf('main')).not.toBe(seedOf('mainx'))
  })
})

describe('where players may walk', () => {
  it('not in water; the nearest land from a spot at sea', () => {
    const t = generateTerrain(seedOf('main'), { width: 2000, height: 2000 })
    expect(walkable(t, 1000, 1000)).toBe(tileAt(t, 1000, 1000) !== Tile.WATER && tileAt(t, 1000, 1000) !== Tile.DEEP)
    // The map is an island: its corner is deep water.
    expect(walkable(t, 5, 5)).toBe(false)
    const shore = nearestWalkable(t, { x: 5, y: 5 }, 200)
    expect(walkable(t, shore.x, shore.y)).toBe(true)
    expect(nearestWalkable(t, { x: 1000, y: 1000 })).toEqual(walkable(t, 1000, 1000) ? { x: 1000, y: 1000 } : expect.anything())
  })
})
