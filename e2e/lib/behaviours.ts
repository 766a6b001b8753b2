import { Hotspots, RandomWaypoint, type Mobility, type Point, type WorldBox } from '../../src/sim/mobility.js'
import type { SeededRng } from '../../src/sim/rng.js'

export const BEHAVIOURS = ['wander', 'cluster', 'follow', 'chat'] as const
export type Behaviour = (typeof BEHAVIOURS)[number]

/** The simulator's step: 5 units at 10 steps a second is the game's walking speed (50 units/s). */
export const STEP_UNITS = 5
export const STEPS_PER_SEC = 10

/**
 * Bot 0 wanders (random waypoint); every other bot heads for the leader's
 * position plus its own offset at the same speed, so a crowd forms and trails it.
 */
class Follow implements Mobility {
  private readonly leader: Point = { x: 0, y: 0 }
  private readonly offsets: Point[] = []

  constructor(
    private readonly lead: Mobility,
    private readonly speed: number,
    private readonly rng: SeededRng,
    private readonly spread: number,
  ) {}

  place(i: number): Point {
    if (i === 0) return Object.assign(this.leader, this.lead.place(0))
    this.offsets[i] = { x: this.rng.normal() * this.spread, y: this.rng.normal() * this.spread }
    return this.lead.place(i)
  }

  step(i: number, p: Point): void {
    if (i === 0) {
      this.lead.step(0, p)
      this.leader.x = p.x
      this.leader.y = p.y
      return
    }
    const o = this.offsets[i]!
    const dx = this.leader.x + o.x - p.x
    const dy = this.leader.y + o.y - p.y
    const d = Math.hypot(dx, dy)
    if (d <= this.speed) {
      p.x += dx
      p.y += dy
    } else {
      p.x += (dx / d) * this.speed
      p.y += (dy / d) * this.speed
    }
  }
}

/**
 * The simulator's mobility models (src/sim/mobility.ts) for `count` bots in `box`:
 * wander walks by random waypoint; cluster and chat (so that lines are heard) by
 * Gaussian hotspots (about ten bots a cluster, spread 0.75 AOI, 5 % chance to switch
 * on arrival); follow trails bot 0.
 */
export function botMobility(behaviour: Behaviour, count: number, box: WorldBox, aoi: number, rng: SeededRng): Mobility {
  switch (behaviour) {
    case 'wander':
      return new RandomWaypoint(box, STEP_UNITS, rng)
    case 'cluster':
    case 'chat':
      return new Hotspots(box, STEP_UNITS, rng, Math.max(1, Math.round(count / 10)), aoi * 0.75, 0.05)
    case 'follow':
      return new Follow(new RandomWaypoint(box, STEP_UNITS, rng), STEP_UNITS, rng, aoi / 3)
  }
}
