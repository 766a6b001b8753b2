import type { WorldArea } from '../peer/world-area.js'
import { positionAt } from '../ui/interpolation.js'
import type { WorldStores } from '../ui/stores.js'
import { hex } from './dom.js'
import { terrainCanvas } from './terrain-canvas.js'
import type { Terrain } from '../ui/terrain.js'

/** The whole map, small, with every known player and the view of the AOI (a DOM canvas, 4 Hz). */
export function mountMinimap(canvas: HTMLCanvasElement, stores: WorldStores, area: WorldArea, terrain: Terrain, now: () => number): () => void {
  const ctx = canvas.getContext('2d')
  if (ctx === null) return () => {}
  const scale = canvas.width / Math.max(area.width, area.height)
  const background = terrainCanvas(terrain, scale, false)
  const render = (): void => {
    ctx.drawImage(background, 0, 0)
    const self = stores.self.getState()
    const t = now()
    for (const p of stores.neighbours.getState().players.values()) {
      const at = positionAt(p.track, t)
      if (at === undefined) continue
      ctx.fillStyle = hex(p.color)
      ctx.fillRect(at.x * scale - 1.5, at.y * scale - 1.5, 3, 3)
    }
    ctx.strokeStyle = 'rgba(255,255,255,0.8)'
    ctx.beginPath()
    ctx.arc(self.x * scale, self.y * scale, self.aoi * scale, 0, Math.PI * 2)
    ctx.stroke()
    ctx.fillStyle = '#ffffff'
    ctx.beginPath()
    ctx.arc(self.x * scale, self.y * scale, 3, 0, Math.PI * 2)
    ctx.fill()
  }
  render()
  const timer = window.setInterval(render, 250)
  return () => window.clearInterval(timer)
}
