import type { StateOut } from './messages.js'

/**
 * The world's rules a receiver enforces on what a neighbour says of itself
 * (issue 23, findings 4 and 6): an AOI radius no larger than the world's, a
 * position inside the map, and no faster motion than the world allows. A state
 * that breaks one is clamped to the nearest lawful one (never refused: the
 * sender's link stays useful) and counted against the sender.
 */
export interface WorldRules {
  /** Largest AOI radius a peer may claim (the world's AOI; crowding control only shrinks it). */
  readonly aoiMax: number
  /** The map: positions outside [0, width] x [0, height] are clamped. Infinity: no edge. */
  readonly width: number
  readonly height: number
  /** Fastest a peer may move (units/s). Infinity: no limit. */
  readonly speedMax: number
}

/** What a receiver last accepted of a neighbour: where it was (predicted) and when. */
export interface Previous {
  readonly x: number
  readonly y: number
  readonly at: number
}

/**
 * Time a move may take beyond the time between two arrivals: moves queue and
 * the network jitters, so two states sent 100 ms apart may arrive 10 ms apart.
 */
export const SPEED_SLACK_MS = 1000
/** A reported velocity may exceed the limit by this factor: it is quantised, and estimated from jittery steps. */
const VELOCITY_SLACK = 1.1
/** Distance a lawful state may differ beyond the speed limit (quantisation, the senders' own rounding). */
const SLACK_UNITS = 2

/**
 * Whether a node another peer named at (x, y) is on the map, or near enough an
 * edge that a prediction carried it past (a walker stops there; the teller's
 * prediction of it runs on until its next word).
 */
export function onMap(x: number, y: number, rules: WorldRules): boolean {
  return x >= -NAMED_SLACK_UNITS && y >= -NAMED_SLACK_UNITS && x <= rules.width + NAMED_SLACK_UNITS && y <= rules.height + NAMED_SLACK_UNITS
}

/** How far past an edge a named node may be predicted (see onMap). */
const NAMED_SLACK_UNITS = 100

/**
 * Clamps `s` (a state just read, in place) to the rules, given what was
 * accepted before (undefined for a first state); returns how many rules it
 * broke (0: lawful, untouched).
 */
export function enforce(s: StateOut, prev: Previous | undefined, now: number, rules: WorldRules): number {
  let broken = 0
  if (s.aoi > rules.aoiMax) {
    s.aoi = rules.aoiMax
    broken++
  }
  const x = Math.min(Math.max(s.x, 0), rules.width)
  const y = Math.min(Math.max(s.y, 0), rules.height)
  // Just over an edge is a prediction carried past it: clamped, not counted.
  if (Math.abs(x - s.x) > SLACK_UNITS || Math.abs(y - s.y) > SLACK_UNITS) broken++
  s.x = x
  s.y = y
  const v = Math.hypot(s.vx, s.vy)
  if (v > rules.speedMax * VELOCITY_SLACK) {
    s.vx *= rules.speedMax / v
    s.vy *= rules.speedMax / v
    broken++
  }
  if (prev === undefined || rules.speedMax === Infinity) return broken
  const reach = reachSince(prev, now, rules, SLACK_UNITS)
  const d = Math.hypot(s.x - prev.x, s.y - prev.y)
  if (d > reach) {
    // As far towards the claimed place as the speed limit allows.
    s.x = prev.x + ((s.x - prev.x) * reach) / d
    s.y = prev.y + ((s.y - prev.y) * reach) / d
    broken++
  }
  return broken
}

/**
 * How far from `prev` a lawful peer may be at `now`: the speed limit over the
 * time since, with a second's slack (see SPEED_SLACK_MS), plus `slackUnits`.
 * Infinity without a speed limit.
 */
export function reachSince(prev: Previous, now: number, rules: Pick<WorldRules, 'speedMax'>, slackUnits: number): number {
  return (rules.speedMax * (Math.max(0, now - prev.at) + SPEED_SLACK_MS)) / 1000 + slackUnits
}
