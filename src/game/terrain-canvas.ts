import { TILE_COLOURS, Tile, type Terrain } from '../ui/terrain.js'

const css = (rgb: number): string => `#${rgb.toString(16).padStart(6, '0')}`

/** `rgb` lightened (f > 0) or darkened (f < 0) by the fraction |f|. */
function tone(rgb: number, f: number): string {
  const ch = (shift: number): number => {
    const v = (rgb >> shift) & 0xff
    return Math.round(f >= 0 ? v + (255 - v) * f : v * (1 + f))
  }
  return `rgb(${ch(16)},${ch(8)},${ch(0)})`
}

/**
 * Paints the map on a 2D canvas at `scale` pixels per world unit: the world
 * texture (scale 1) and the minimap (a fraction) come from the same code.
 */
export function paintTerrain(ctx: CanvasRenderingContext2D, t: Terrain, scale: number, detail = true): void {
  const px = t.tileSize * scale
  for (let r = 0; r < t.rows; r++) {
    for (let c = 0; c < t.cols; c++) {
      const i = r * t.cols + c
      const kind = t.tiles[i] as Tile
      ctx.fillStyle = detail ? tone(TILE_COLOURS[kind], (t.shade[i]! - 0.5) * 0.12) : css(TILE_COLOURS[kind])
      // Half a pixel of overlap hides seams when the canvas is scaled.
      ctx.fillRect(Math.floor(c * px), Math.floor(r * px), Math.ceil(px) + 1, Math.ceil(px) + 1)
    }
  }
  if (!detail) return
  // Ripples on water, pebbles on rock: one short stroke per tile, placed by its shade.
  ctx.lineWidth = Math.max(1, scale)
  for (let r = 0; r < t.rows; r++) {
    for (let c = 0; c < t.cols; c++) {
      const i = r * t.cols + c
      const kind = t.tiles[i]
      const s = t.shade[i]!
      if ((kind === Tile.WATER || kind === Tile.DEEP) && s > 0.55) {
        ctx.strokeStyle = tone(TILE_COLOURS[kind], 0.25)
        const x = (c + s * 0.5) * px
        const y = (r + 0.5) * px
        ctx.beginPath()
        ctx.moveTo(x, y)
        ctx.quadraticCurveTo(x + px * 0.2, y - px * 0.15, x + px * 0.4, y)
        ctx.stroke()
      } else if (kind === Tile.ROCK && s > 0.6) {
        ctx.fillStyle = tone(TILE_COLOURS[kind], -0.25)
        ctx.fillRect((c + s * 0.6) * px, (r + (1 - s)) * px, px * 0.18, px * 0.14)
      }
    }
  }
  for (const tree of t.trees) {
    const x = tree.x * scale
    const y = tree.y * scale
    const rr = tree.r * scale
    ctx.fillStyle = 'rgba(0,0,0,0.22)'
    ctx.beginPath()
    ctx.ellipse(x + rr * 0.25, y + rr * 0.35, rr, rr * 0.7, 0, 0, Math.PI * 2)
    ctx.fill()
    ctx.fillStyle = '#2b5a2a'
    ctx.beginPath()
    ctx.arc(x, y, rr, 0, Math.PI * 2)
    ctx.fill()
    ctx.fillStyle = '#3e7d3a'
    ctx.beginPath()
    ctx.arc(x - rr * 0.25, y - rr * 0.25, rr * 0.55, 0, Math.PI * 2)
    ctx.fill()
  }
}

/** A canvas of the whole map at `scale` pixels per unit. */
export function terrainCanvas(t: Terrain, scale: number, detail = true): HTMLCanvasElement {
  const canvas = document.createElement('canvas')
  canvas.width = Math.ceil(t.cols * t.tileSize * scale)
  canvas.height = Math.ceil(t.rows * t.tileSize * scale)
  const ctx = canvas.getContext('2d')
  if (ctx !== null) paintTerrain(ctx, t, scale, detail)
  return canvas
}
