import { Delaunay } from 'd3-delaunay'

/** A site of a local Voronoi diagram: index 0 is always the peer itself. */
export interface Site {
  readonly x: number
  readonly y: number
  /** A tiny fixed offset (from the peer id) so identical positions never coincide. */
  readonly jx: number
  readonly jy: number
}

/** The offset for a peer id: identical positions break a Voronoi diagram. */
export function jitterOf(id: string): { jx: number; jy: number } {
  const h = parseInt(id.slice(0, 8), 16)
  return { jx: ((h & 0xffff) / 0xffff - 0.5) * 1e-3, jy: ((h >>> 16) / 0xffff - 0.5) * 1e-3 }
}

/** Far enough that clipping never cuts a real cell edge in any world we run. */
const BOUNDS = [-1e8, -1e8, 1e8, 1e8] as const

/**
 * A peer's local Voronoi diagram over itself and the neighbours it knows
 * (d3-delaunay). Rebuilt when the site set or positions changed; at our sizes
 * (a few to a few dozen sites) a rebuild takes microseconds, so no incremental
 * algorithm is needed.
 */
export class LocalDiagram {
  private readonly delaunay: Delaunay<Site>
  private voronoi: ReturnType<Delaunay<Site>['voronoi']> | undefined
  /** Cells computed so far (the diagram never changes: NODES asks for ours again and again). */
  private readonly cells: (readonly (readonly [number, number])[])[] = []

  /**
   * @param replaces a diagram this one supersedes: with as many sites, its
   *   triangulation's arrays are refilled in place (d3-delaunay's `update`)
   *   instead of allocated, and it must not be used again.
   */
  constructor(
    private readonly sites: readonly Site[],
    replaces?: LocalDiagram,
  ) {
    const old = replaces?.delaunay
    // Our own Float64Array: d3-delaunay keeps the array it was given as `points`.
    const reused = old !== undefined && old.points.length === sites.length * 2 ? (old.points as Float64Array) : undefined
    const coords = reused ?? new Float64Array(sites.length * 2)
    for (let i = 0; i < sites.length; i++) {
      const s = sites[i]!
      coords[2 * i] = s.x + s.jx
      coords[2 * i + 1] = s.y + s.jy
    }
    this.delaunay = reused !== undefined ? old!.update() : new Delaunay(coords)
  }

  /** Indices of the sites whose cells share an edge with site `i` (its enclosing neighbours). */
  enclosing(i: number): number[] {
    if (this.sites.length < 2) return []
    if (this.sites.length === 2) return [1 - i]
    return [...this.delaunay.neighbors(i)]
  }

  /**
   * Whether site `i`'s cell reaches outside the circle of radius `r` around
   * (cx, cy): unbounded, or a vertex farther than `r`. Such a neighbour can see
   * past the circle's edge (a boundary neighbour).
   */
  reachesBeyond(i: number, cx: number, cy: number, r: number): boolean {
    const poly = this.cell(i)
    if (poly.length === 0) return true
    const r2 = r * r
    for (const [x, y] of poly) {
      if ((x - cx) ** 2 + (y - cy) ** 2 > r2) return true
    }
    return false
  }

  /** The vertices of site `i`'s cell (clipped far away when unbounded). */
  cell(i: number): readonly (readonly [number, number])[] {
    const known = this.cells[i]
    if (known !== undefined) return known
    this.voronoi ??= this.delaunay.voronoi(BOUNDS as unknown as [number, number, number, number])
    return (this.cells[i] = this.voronoi.cellPolygon(i) ?? [])
  }

  /** Index of the site nearest to (x, y): the owner of the cell containing it. */
  owner(x: number, y: number): number {
    return this.delaunay.find(x, y)
  }
}
