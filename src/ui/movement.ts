import { clampToWorld, type WorldArea } from '../peer/world-area.js'

export interface Vec {
  readonly x: number
  readonly y: number
}

/** VON's buffer rule for the default 30-unit buffer: 5 units a step at 10 steps a second. */
export const UNITS_PER_SEC = 50
/** Close enough to a click-to-move target to stop. */
export const ARRIVE_UNITS = 0.5

export interface MoveInput {
  /** Direction held on the keyboard (any length; zero when none). */
  readonly held: Vec
  /** Click-to-move destination, if any. */
  readonly target: Vec | null
}

/** Where a player may stand; everywhere when the world has no map. */
export type Walkable = (x: number, y: number) => boolean

/**
 * One step of the local player: keys win over a click target (and cancel it);
 * the step never exceeds `UNITS_PER_SEC`, stays inside the world and out of
 * what `walkable` refuses (water): blocked one way, it slides along the other
 * axis, as along a shore; blocked both ways, it stops (and drops the target).
 */
export function step(at: Vec, input: MoveInput, dtMs: number, area: WorldArea, walkable: Walkable = () => true, speed = UNITS_PER_SEC): { at: Vec; target: Vec | null } {
  const d = (speed * Math.max(0, dtMs)) / 1000
  const hl = Math.hypot(input.held.x, input.held.y)
  if (hl > 0) return { at: allowed(at, clampToWorld(area, at.x + (input.held.x / hl) * d, at.y + (input.held.y / hl) * d), walkable) ?? at, target: null }
  if (input.target === null) return { at, target: null }
  const dx = input.target.x - at.x
  const dy = input.target.y - at.y
  const dist = Math.hypot(dx, dy)
  const arrived = dist <= Math.max(d, ARRIVE_UNITS)
  const next = arrived ? clampToWorld(area, input.target.x, input.target.y) : clampToWorld(area, at.x + (dx / dist) * d, at.y + (dy / dist) * d)
  const moved = allowed(at, next, walkable)
  if (moved === undefined) return { at, target: null }
  return { at: moved, target: arrived ? null : input.target }
}

/** `next`, or a slide along one axis when `next` is not walkable; undefined when neither is. */
function allowed(at: Vec, next: Vec, walkable: Walkable): Vec | undefined {
  // Standing in water already (a position saved before maps blocked water): any step leads out.
  if (walkable(next.x, next.y) || !walkable(at.x, at.y)) return next
  if (next.x !== at.x && walkable(next.x, at.y)) return { x: next.x, y: at.y }
  if (next.y !== at.y && walkable(at.x, next.y)) return { x: at.x, y: next.y }
  return undefined
}
