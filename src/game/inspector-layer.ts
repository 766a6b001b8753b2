import * as Phaser from 'phaser'
import type { InspectorState } from '../ui/stores.js'
import { DHT_COLOUR, KIND_COLOURS, linkColour, PEER_RELAY_COLOUR, RELAY_COLOUR } from './colours.js'

/**
 * The network drawn over the world: the local Voronoi diagram (our cell tinted),
 * neighbours ringed by kind (enclosing, boundary, AOI: a neighbour can be
 * several), links coloured by the protocols that keep them (TURN-relayed links red, links relayed through a peer orange),
 * DHT contacts dotted.
 */
export class InspectorLayer {
  private readonly g: Phaser.GameObjects.Graphics

  constructor(scene: Phaser.Scene) {
    this.g = scene.add.graphics().setDepth(5)
  }

  draw(s: InspectorState, self: { x: number; y: number }): void {
    const g = this.g
    g.clear()
    if (!s.open) return
    s.cells.forEach((cell, i) => {
      if (cell.poly.length < 3) return
      const pts = cell.poly.map((p) => new Phaser.Math.Vector2(p.x, p.y))
      if (i === 0) {
        g.fillStyle(0x42a5f5, 0.12)
        g.fillPoints(pts, true)
      }
      g.lineStyle(1.5, 0xffffff, 0.45)
      g.strokePoints(pts, true)
    })
    for (const l of s.links) {
      if (l.x === undefined || l.y === undefined) continue
      const relayed = l.path === 'relay' || l.path === 'peer-relay'
      const colour = l.path === 'peer-relay' ? PEER_RELAY_COLOUR : l.path === 'relay' ? RELAY_COLOUR : linkColour(l.protocols)
      g.lineStyle(relayed ? 3 : 2, colour, relayed ? 0.95 : 0.8)
      g.lineBetween(self.x, self.y, l.x, l.y)
    }
    for (const m of s.marks) {
      m.kinds.forEach((k, i) => {
        g.lineStyle(2.5, KIND_COLOURS[k], 0.95)
        g.strokeCircle(m.x, m.y, 16 + i * 4)
      })
      if (m.dht) {
        g.fillStyle(DHT_COLOUR, 1)
        g.fillCircle(m.x + 13, m.y - 13, 3.5)
      }
    }
  }

  destroy(): void {
    this.g.destroy()
  }
}
