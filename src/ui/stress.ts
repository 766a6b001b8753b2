import type { WorldArea } from '../peer/world-area.js'
import { clampToWorld } from '../peer/world-area.js'
import { applyMoves, patchPlayer, type PositionUpdate, type WorldStores } from './stores.js'

/** Fake avatars wander within this distance of where the player stood at start (in view). */
const SPREAD_UNITS = 260
const STEP_UNITS = 5

/**
 * `?stress=N`: N fake remote avatars walking random waypoints around the player
 * at VON's move rate, through the same store path as real neighbours, so frame
 * time can be measured with a crowd in view and no network.
 */
export function startStress(stores: WorldStores, area: WorldArea, count: number, now: () => number, seed = 1): () => void {
  let s = seed >>> 0
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const home = stores.self.getState()
  const around = (): { x: number; y: number } =>
    clampToWorld(area, home.x + (rand() * 2 - 1) * SPREAD_UNITS, home.y + (rand() * 2 - 1) * SPREAD_UNITS)
  const bots = Array.from({ length: count }, (_, i) => ({ id: `fake${i.toString(16).padStart(4, '0')}${'0'.repeat(56)}`, at: around(), to: around() }))
  const move = (): void => {
    const t = now()
    const moves: PositionUpdate[] = bots.map((b) => {
      const dx = b.to.x - b.at.x
      const dy = b.to.y - b.at.y
      const d = Math.hypot(dx, dy)
      if (d <= STEP_UNITS) {
        b.at = b.to
        b.to = around()
      } else {
        b.at = { x: b.at.x + (dx / d) * STEP_UNITS, y: b.at.y + (dy / d) * STEP_UNITS }
      }
      return { id: b.id, t, x: b.at.x, y: b.at.y }
    })
    applyMoves(stores.neighbours, moves, true)
  }
  move()
  bots.forEach((b, i) => patchPlayer(stores.neighbours, b.id, { name: `bot ${i + 1}`, linkOpen: true }))
  const timer = window.setInterval(move, 100)
  return () => {
    window.clearInterval(timer)
    applyMoves(stores.neighbours, bots.map((b) => ({ id: b.id, left: true })))
  }
}
