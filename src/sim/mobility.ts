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

/** The models a VON run can name (`--mobility`); `replay` plays a track file instead (replay.ts). */
export type MobilityName = 'waypoint' | 'hotspot' | 'flash' | 'keyboard'

export interface KeyboardInit {
  /** Steps per second: key-change times are drawn in seconds. */
  stepsPerSec: number
  /** Share of players who never press a key. @default 0.1 */
  idleShare?: number
  /** Chance that a key change lets go of every key (a pause). @default 0.15 */
  pauseChance?: number
  /** Keys change after a uniform time in [min, max] seconds, at least one step. @default [0.3, 3] */
  changeSecondsMin?: number
  changeSecondsMax?: number
}

const UP = 1
const DOWN = 2
const LEFT = 4
const RIGHT = 8
const ARROWS = [UP, DOWN, LEFT, RIGHT] as const

interface Keys {
  held: number
  idle: boolean
  /** Steps until the next key change. */
  left: number
}

/**
 * A player at a keyboard: arrow keys held alone or in pairs (8 directions, a
 * pair walks at the same speed as one key), changed every 0.3-3 s by pressing a
 * perpendicular key, letting go of one, switching arrow, or letting go of all (a
 * pause). Some players never touch the keys. A key that would walk out of the
 * world is swapped for its opposite: the player turns at the edge.
 */
export class KeyboardMobility implements Mobility {
  private readonly keys: Keys[] = []
  private readonly cfg: Required<KeyboardInit>

  constructor(
    private readonly world: WorldBox,
    private readonly speed: number,
    private readonly rng: SeededRng,
    init: KeyboardInit,
  ) {
    this.cfg = { idleShare: 0.1, pauseChance: 0.15, changeSecondsMin: 0.3, changeSecondsMax: 3, ...init }
  }

  place(i: number): Point {
    const idle = this.rng.next() < this.cfg.idleShare
    this.keys[i] = { idle, held: idle ? 0 : ARROWS[this.rng.int(4)]!, left: this.changeSteps() }
    return { x: this.rng.next() * this.world.width, y: this.rng.next() * this.world.height }
  }

  step(i: number, p: Point): void {
    const k = this.keys[i]!
    if (k.idle) return
    if (--k.left <= 0) {
      k.held = this.change(k.held)
      k.left = this.changeSteps()
    }
    if (k.held === 0) return
    let dx = (k.held & RIGHT ? 1 : 0) - (k.held & LEFT ? 1 : 0)
    let dy = (k.held & DOWN ? 1 : 0) - (k.held & UP ? 1 : 0)
    const v = dx !== 0 && dy !== 0 ? this.speed / Math.SQRT2 : this.speed
    if (p.x + dx * v < 0 || p.x + dx * v > this.world.width) {
      k.held ^= LEFT | RIGHT
      dx = -dx
    }
    if (p.y + dy * v < 0 || p.y + dy * v > this.world.height) {
      k.held ^= UP | DOWN
      dy = -dy
    }
    p.x += dx * v
    p.y += dy * v
    clampTo(this.world, p)
  }

  /** The keys after one change from `held` (never two opposite arrows). */
  private change(held: number): number {
    const r = this.rng
    if (held === 0) return ARROWS[r.int(4)]!
    if (r.next() < this.cfg.pauseChance) return 0
    const pressed = ARROWS.filter((a) => held & a)
    if (pressed.length === 2) return pressed[r.int(2)]!
    const one = pressed[0]!
    // Half the time a perpendicular key joins (a diagonal), else another arrow takes over.
    if (r.next() < 0.5) return one | (one === UP || one === DOWN ? [LEFT, RIGHT] : [UP, DOWN])[r.int(2)]!
    const others = ARROWS.filter((a) => a !== one)
    return others[r.int(3)]!
  }

  private changeSteps(): number {
    const { changeSecondsMin: lo, changeSecondsMax: hi, stepsPerSec } = this.cfg
    return Math.max(1, Math.round((lo + this.rng.next() * (hi - lo)) * stepsPerSec))
  }
}
