/** The world's extent in units (spec/von.md: 2000 x 2000 by default). */
export interface WorldArea {
  readonly width: number
  readonly height: number
}

export const DEFAULT_WORLD: WorldArea = Object.freeze({ width: 2000, height: 2000 })

/** Keeps a position inside the world. */
export function clampToWorld(area: WorldArea, x: number, y: number): { x: number; y: number } {
  return { x: Math.min(area.width, Math.max(0, x)), y: Math.min(area.height, Math.max(0, y)) }
}

/**
 * `n` fixed positions spread evenly over the world (the centres of a near-square
 * grid): where anchor peers stand, so every region has an always-on peer nearby.
 */
export function spreadPositions(area: WorldArea, n: number): { x: number; y: number }[] {
  const cols = Math.ceil(Math.sqrt(n))
  const rows = Math.ceil(n / Math.max(1, cols))
  const out: { x: number; y: number }[] = []
  for (let i = 0; i < n; i++) {
    out.push({ x: ((i % cols) + 0.5) * (area.width / cols), y: (Math.floor(i / cols) + 0.5) * (area.height / rows) })
  }
  return out
}
