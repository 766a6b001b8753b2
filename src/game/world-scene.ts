import * as Phaser from 'phaser'
import type { WorldArea } from '../peer/world-area.js'
import type { Intents } from '../ui/intents.js'
import { approach, positionAt } from '../ui/interpolation.js'
import { recentLines, type WorldStores } from '../ui/stores.js'
import { AvatarView, makeAvatarTextures } from './avatar-view.js'
import type { JoinTimeline } from '../ui/join-timeline.js'
import type { FrameRecorder } from './frame-stats.js'
import { InspectorLayer } from './inspector-layer.js'
import { terrainCanvas } from './terrain-canvas.js'
import type { Terrain } from '../ui/terrain.js'

/** How long a chat line stays over its speaker. */
export const BUBBLE_MS = 6000
/** Own avatar follows the stepped position with this time constant (moves come at 20 Hz). */
const SELF_SMOOTH_MS = 45
const ZOOM_MIN = 0.5
const ZOOM_MAX = 2.5

export interface SceneDeps {
  stores: WorldStores
  intents: Intents
  area: WorldArea
  terrain: Terrain
  now: () => number
  frames: FrameRecorder
  /** The join timeline: the scene marks when it starts and when it first draws a neighbour. */
  timeline?: Pick<JoinTimeline, 'mark'>
}

/**
 * The world: the generated map, every player (self smoothed, others
 * interpolated between VON updates), names, bubbles, the AOI circle and the
 * inspector overlay. Reads the stores each frame and dispatches intents.
 */
export class WorldScene extends Phaser.Scene {
  private me!: AvatarView
  private aoiRing!: Phaser.GameObjects.Arc
  private targetMark!: Phaser.GameObjects.Arc
  private inspector!: InspectorLayer
  private inspectorDirty = true
  private readonly views = new Map<string, AvatarView>()
  private readonly textureOf = new Map<string, string | null>()
  private shown = { x: 0, y: 0 }
  private updates = 0
  private unsubscribe: (() => void)[] = []

  constructor(private readonly deps: SceneDeps) {
    super('world')
  }

  create(): void {
    const { area, stores, intents } = this.deps
    makeAvatarTextures(this)
    const self = stores.self.getState()
    this.shown = { x: self.x, y: self.y }
    this.aoiRing = this.add.circle(self.x, self.y, self.aoi).setStrokeStyle(2, 0x9cc4ff, 0.85).setDepth(4)
    this.targetMark = this.add.circle(0, 0, 5).setStrokeStyle(2, 0xffffff, 0.9).setDepth(4).setVisible(false)
    this.inspector = new InspectorLayer(this)
    this.me = new AvatarView(this, self.color, self.name, true)
    const cam = this.cameras.main
    cam.setBounds(-area.width * 0.25, -area.height * 0.25, area.width * 1.5, area.height * 1.5)
    cam.setBackgroundColor('#10141a')
    cam.setZoom(1.25)
    this.input.on('pointerdown', (p: Phaser.Input.Pointer) => {
      if (p.button === 0) intents.moveTo(p.worldX, p.worldY)
    })
    // Dragging (a finger on a phone, or the held mouse) steers: the target follows the pointer.
    this.input.on('pointermove', (p: Phaser.Input.Pointer) => {
      if (p.isDown && p.button === 0) intents.moveTo(p.worldX, p.worldY)
    })
    this.input.on('wheel', (_p: unknown, _o: unknown, _dx: number, dy: number) => {
      cam.setZoom(Phaser.Math.Clamp(cam.zoom * (dy > 0 ? 0.9 : 1.1), ZOOM_MIN, ZOOM_MAX))
    })
    this.unsubscribe.push(stores.inspector.subscribe(() => (this.inspectorDirty = true)))
    const frames = this.deps.frames
    this.game.events.on(Phaser.Core.Events.PRE_STEP, () => frames.stepStart(performance.now()))
    this.game.events.on(Phaser.Core.Events.POST_RENDER, () => frames.stepEnd(performance.now()))
    this.events.once(Phaser.Scenes.Events.SHUTDOWN, () => this.unsubscribe.forEach((u) => u()))
    this.deps.timeline?.mark('game-ready')
  }

  override update(_time: number, deltaMs: number): void {
    // The map (a large canvas painted and uploaded once, ~100-200 ms in software GL) comes in the
    // second frame: the first one shows the players already there as soon as the scene runs.
    if (++this.updates === 2) this.addTerrain()
    const { stores } = this.deps
    const now = this.deps.now()
    const self = stores.self.getState()
    this.shown = { x: approach(this.shown.x, self.x, deltaMs, SELF_SMOOTH_MS), y: approach(this.shown.y, self.y, deltaMs, SELF_SMOOTH_MS) }
    this.me.moveTo(this.shown.x, this.shown.y)
    this.me.setName(self.name)
    this.me.setImage(this.texture(self.avatarUrl))
    this.cameras.main.centerOn(this.shown.x, this.shown.y)
    this.aoiRing.setPosition(this.shown.x, this.shown.y)
    if (this.aoiRing.radius !== self.aoi) this.aoiRing.setRadius(self.aoi)
    this.targetMark.setVisible(self.target !== null)
    if (self.target !== null) this.targetMark.setPosition(self.target.x, self.target.y)

    const bubbles = recentLines(stores.chat.getState().lines, now - BUBBLE_MS)
    this.me.setBubble(bubbles.get(self.id))
    const players = stores.neighbours.getState().players
    for (const [id, view] of this.views) {
      if (!players.has(id)) {
        view.destroy()
        this.views.delete(id)
      }
    }
    const r2 = self.aoi * self.aoi
    for (const p of players.values()) {
      const at = positionAt(p.track, now)
      if (at === undefined) continue
      let view = this.views.get(p.id)
      if (view === undefined) {
        view = new AvatarView(this, p.color, p.name ?? p.id.slice(0, 6), false)
        this.views.set(p.id, view)
        if (!p.fake) this.deps.timeline?.mark('first-drawn')
      }
      view.moveTo(at.x, at.y)
      view.setName(p.name ?? p.id.slice(0, 6))
      view.setColor(p.color)
      view.setImage(this.texture(p.avatarUrl))
      view.setBubble(bubbles.get(p.id))
      // Known but outside the AOI (enclosing or just-discovered neighbours): drawn faded.
      view.setAlpha((at.x - self.x) ** 2 + (at.y - self.y) ** 2 <= r2 ? 1 : 0.55)
    }
    if (this.inspectorDirty) {
      this.inspectorDirty = false
      this.inspector.draw(stores.inspector.getState(), self)
    }
  }

  private addTerrain(): void {
    this.textures.addCanvas('terrain', terrainCanvas(this.deps.terrain, 1))
    this.add.image(0, 0, 'terrain').setOrigin(0, 0).setDepth(0)
  }

  /** The texture key of an avatar URL once loaded; starts loading it on first sight. */
  private texture(url: string | undefined): string | undefined {
    if (url === undefined) return undefined
    const known = this.textureOf.get(url)
    if (known !== undefined) return known ?? undefined
    this.textureOf.set(url, null)
    const img = new Image()
    img.onload = () => {
      const key = `avatar:${url}`
      if (!this.textures.exists(key)) this.textures.addImage(key, img)
      this.textureOf.set(url, key)
    }
    img.src = url
    return undefined
  }
}
