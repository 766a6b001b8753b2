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

/**
 * One step of the local player: keys win over a click target (and cancel it);
 * the step never exceeds `UNITS_PER_SEC` and stays inside the world.
 */
export function step(at: Vec, input: MoveInput, dtMs: number, area: WorldArea, speed = UNITS_PER_SEC): { at: Vec; target: Vec | null } {
  const d = (speed * Math.max(0, dtMs)) / 1000
  const hl = Math.hypot(input.held.x, input.held.y)
  if (hl > 0) {
    return { at: clampToWorld(area, at.x + (input.held.x / hl) * d, at.y + (input.held.y / hl) * d), target: null }
  }
  if (input.target === null) return { at, target: null }
  const dx = input.target.x - at.x
  const dy = input.target.y - at.y
  const dist = Math.hypot(dx, dy)
  if (dist <= Math.max(d, ARRIVE_UNITS)) return { at: clampToWorld(area, input.target.x, input.target.y), target: null }
  return { at: clampToWorld(area, at.x + (dx / dist) * d, at.y + (dy / dist) * d), target: input.target }
}
