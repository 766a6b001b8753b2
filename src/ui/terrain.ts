/**
 * The world's map, generated from its name: every peer derives the same tiles
 * and trees from the same seed, so nothing about the map is ever transferred.
 * Pure (no Phaser, no DOM) so the simulator, bots and tests can use it.
 */

export const Tile = { DEEP: 0, WATER: 1, SAND: 2, GRASS: 3, MEADOW: 4, FOREST: 5, ROCK: 6 } as const
export type Tile = (typeof Tile)[keyof typeof Tile]

export interface Tree {
  readonly x: number
  readonly y: number
  /** Crown radius in world units. */
  readonly r: number
}

export interface Terrain {
  readonly seed: number
  readonly cols: number
  readonly rows: number
  /** World units per tile side. */
  readonly tileSize: number
  /** Row-major tile kinds. */
  readonly tiles: Uint8Array
  /** Per-tile shade in [0, 1) so equal tiles do not look stamped. */
  readonly shade: Float32Array
  readonly trees: readonly Tree[]
}

export interface TerrainInit {
  /** World extent in units. */
  width: number
  height: number
  /** @default 20 */
  tileSize?: number
  /** Trees at most (a cap on what a renderer draws). @default 1500 */
  maxTrees?: number
}

/** FNV-1a of a string: the world name becomes the map's seed. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A 32-bit integer hash of a lattice point (stateless: any order of calls gives the same map). */
function hash2(ix: number, iy: number, seed: number): number {
  let h = (seed ^ Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1)) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

const unit = (h: number): number => h / 0x100000000

/** Smooth value noise in [0, 1) with cell size `cell`. */
function valueNoise(x: number, y: number, cell: number, seed: number): number {
  const gx = x / cell
  const gy = y / cell
  const ix = Math.floor(gx)
  const iy = Math.floor(gy)
  const fx = gx - ix
  const fy = gy - iy
  const sx = fx * fx * (3 - 2 * fx)
  const sy = fy * fy * (3 - 2 * fy)
  const a = unit(hash2(ix, iy, seed))
  const b = unit(hash2(ix + 1, iy, seed))
  const c = unit(hash2(ix, iy + 1, seed))
  const d = unit(hash2(ix + 1, iy + 1, seed))
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy
}

/** Four octaves of value noise, normalised to [0, 1). */
function fbm(x: number, y: number, cell: number, seed: number): number {
  let sum = 0
  let amp = 1
  let norm = 0
  for (let o = 0; o < 4; o++) {
    sum += amp * valueNoise(x, y, cell, seed + o * 0x9e3779b1)
    norm += amp
    amp *= 0.5
    cell *= 0.5
  }
  return sum / norm
}

function classify(height: number, moisture: number): Tile {
  if (height < 0.3) return Tile.DEEP
  if (height < 0.38) return Tile.WATER
  if (height < 0.41) return Tile.SAND
  if (height > 0.72) return Tile.ROCK
  if (moisture > 0.58) return Tile.FOREST
  return moisture > 0.45 ? Tile.GRASS : Tile.MEADOW
}

/** Generates the map of a world: same `seed` and `init`, same map, byte for byte. */
export function generateTerrain(seed: number, init: TerrainInit): Terrain {
  const tileSize = init.tileSize ?? 20
  const maxTrees = init.maxTrees ?? 1500
  const cols = Math.ceil(init.width / tileSize)
  const rows = Math.ceil(init.height / tileSize)
  const tiles = new Uint8Array(cols * rows)
  const shade = new Float32Array(cols * rows)
  const trees: Tree[] = []
  const hSeed = hash2(1, 0, seed)
  const mSeed = hash2(2, 0, seed)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = (c + 0.5) * tileSize
      const y = (r + 0.5) * tileSize
      // Lower towards the rim: a world reads as an island, so its edge is visible.
      const edge = Math.min(x, y, init.width - x, init.height - y) / Math.min(init.width, init.height)
      const height = fbm(x, y, 480, hSeed) - Math.max(0, 0.12 - edge) * 2.5
      const moisture = fbm(x, y, 360, mSeed)
      const i = r * cols + c
      const kind = classify(height, moisture)
      tiles[i] = kind
      const h = hash2(c, r, seed ^ 0x5bd1e995)
      shade[i] = unit(h)
      const treeChance = kind === Tile.FOREST ? 0.55 : kind === Tile.GRASS ? 0.04 : 0
      if (trees.length < maxTrees && unit(hash2(c, r, seed ^ 0x1b873593)) < treeChance) {
        const jx = unit(hash2(c, r, seed ^ 0xcc9e2d51)) - 0.5
        const jy = unit(hash2(r, c, seed ^ 0xcc9e2d51)) - 0.5
        trees.push({ x: x + jx * tileSize * 0.6, y: y + jy * tileSize * 0.6, r: tileSize * (0.35 + 0.3 * unit(h >>> 3)) })
      }
    }
  }
  return { seed, cols, rows, tileSize, tiles, shade, trees }
}

/** The tile under a world position (clamped to the map). */
export function tileAt(t: Terrain, x: number, y: number): Tile {
  const c = Math.min(t.cols - 1, Math.max(0, Math.floor(x / t.tileSize)))
  const r = Math.min(t.rows - 1, Math.max(0, Math.floor(y / t.tileSize)))
  return t.tiles[r * t.cols + c] as Tile
}

/** Whether a player may stand at (x, y): not in water. */
export function walkable(t: Terrain, x: number, y: number): boolean {
  const tile = tileAt(t, x, y)
  return tile !== Tile.WATER && tile !== Tile.DEEP
}

/** The nearest spot at or around `p` where a player may stand (searched in rings of a tile); `p` when none is near. */
export function nearestWalkable(t: Terrain, p: { x: number; y: number }, maxRings = 40): { x: number; y: number } {
  if (walkable(t, p.x, p.y)) return p
  for (let ring = 1; ring <= maxRings; ring++) {
    const d = ring * t.tileSize
    const steps = 8 * ring
    for (let i = 0; i < steps; i++) {
      const a = (2 * Math.PI * i) / steps
      const q = { x: p.x + d * Math.cos(a), y: p.y + d * Math.sin(a) }
      if (q.x >= 0 && q.y >= 0 && q.x < t.cols * t.tileSize && q.y < t.rows * t.tileSize && walkable(t, q.x, q.y)) return q
    }
  }
  return p
}

/** Colours of the tile kinds (0xRRGGBB), shared by the world and the minimap. */
export const TILE_COLOURS: Readonly<Record<Tile, number>> = {
  [Tile.DEEP]: 0x1d3f6e,
  [Tile.WATER]: 0x2f62a0,
  [Tile.SAND]: 0xd8c58f,
  [Tile.GRASS]: 0x5d9a48,
  [Tile.MEADOW]: 0x7cae55,
  [Tile.FOREST]: 0x3f7a3a,
  [Tile.ROCK]: 0x8a8a83,
}
