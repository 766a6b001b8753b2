import type { SeededRng } from './rng.js'

export interface Point {
  x: number
  y: number
}

/** Moves every peer one step at a time; positions live in the caller's array. */
export interface Mobility {
  /** A starting position for peer `i`. */
  place(i: number): Point
  /** Advances peer `i` one step from `p` (in place). */
  step(i: number, p: Point): void
}

export interface WorldBox {
  readonly width: number
  readonly height: number
}

function clampTo(world: WorldBox, p: Point): void {
  p.x = Math.max(0, Math.min(world.width, p.x))
  p.y = Math.max(0, Math.min(world.height, p.y))
}

/** Moves `p` toward `t` by at most `speed`; true when it arrived. */
function advance(p: Point, t: Point, speed: number): boolean {
  const dx = t.x - p.x
  const dy = t.y - p.y
  const d = Math.hypot(dx, dy)
  if (d <= speed) {
    p.x = t.x
    p.y = t.y
    return true
  }
  p.x += (dx / d) * speed
  p.y += (dy / d) * speed
  return false
}

/** Random waypoint without pauses: walk to a uniform random point, pick another. */
export class RandomWaypoint implements Mobility {
  private readonly targets: Point[] = []

  constructor(
    private readonly world: WorldBox,
    private readonly speed: number,
    private readonly rng: SeededRng,
  ) {}

  place(i: number): Point {
    this.targets[i] = this.uniform()
    return this.uniform()
  }

  step(i: number, p: Point): void {
    const t = (this.targets[i] ??= this.uniform())
    if (advance(p, t, this.speed)) this.targets[i] = this.uniform()
  }

  private uniform(): Point {
    return { x: this.rng.next() * this.world.width, y: this.rng.next() * this.world.height }
  }
}

/**
 * Hotspot clusters: each peer walks between Gaussian points around its cluster's
 * centre and, on arriving, switches to another cluster with a small probability.
 */
export class Hotspots implements Mobility {
  private readonly centres: Point[] = []
  private readonly cluster: number[] = []
  private readonly targets: Point[] = []

  constructor(
    private readonly world: WorldBox,
    private readonly speed: number,
    private readonly rng: SeededRng,
    clusters: number,
    private readonly sigma: number,
    private readonly switchProbability: number,
  ) {
    for (let c = 0; c < clusters; c++) {
      this.centres.push({ x: (0.1 + 0.8 * rng.next()) * world.width, y: (0.1 + 0.8 * rng.next()) * world.height })
    }
  }

  place(i: number): Point {
    this.cluster[i] = this.rng.int(this.centres.length)
    this.targets[i] = this.around(this.cluster[i]!)
    return this.around(this.cluster[i]!)
  }

  step(i: number, p: Point): void {
    if (!advance(p, this.targets[i]!, this.speed)) return
    if (this.rng.next() < this.switchProbability) this.cluster[i] = this.rng.int(this.centres.length)
    this.targets[i] = this.around(this.cluster[i]!)
  }

  private around(c: number): Point {
    const centre = this.centres[c]!
    const p = { x: centre.x + this.rng.normal() * this.sigma, y: centre.y + this.rng.normal() * this.sigma }
    clampTo(this.world, p)
    return p
  }
}

/**
 * A flash crowd: peers start spread over the world and, from `startStep` on, all
 * head for one point, stopping at a Gaussian spot around it.
 */
export class FlashCrowd implements Mobility {
  private readonly targets: Point[] = []
  private steps = new Map<number, number>()

  constructor(
    private readonly world: WorldBox,
    private readonly speed: number,
    private readonly rng: SeededRng,
    private readonly point: Point,
    private readonly spread: number,
    private readonly startStep: number,
  ) {}

  place(i: number): Point {
    const t = { x: this.point.x + this.rng.normal() * this.spread, y: this.point.y + this.rng.normal() * this.spread }
    clampTo(this.world, t)
    this.targets[i] = t
    return { x: this.rng.next() * this.world.width, y: this.rng.next() * this.world.height }
  }

  step(i: number, p: Point): void {
    const n = (this.steps.get(i) ?? 0) + 1
    this.steps.set(i, n)
    if (n >= this.startStep) advance(p, this.targets[i]!, this.speed)
  }
}
