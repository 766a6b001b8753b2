import * as Phaser from 'phaser'

/** Radius of an avatar's disc, world units. */
export const AVATAR_RADIUS = 11
const IMAGE_PX = 26
const BUBBLE_WRAP_PX = 170

/**
 * One player on screen: a coloured disc (or their avatar image once fetched),
 * the name above, and a speech bubble while they have just said something.
 * Plain game objects moved each frame (cheaper than a Container for 100+).
 */
/** Texture of the avatar disc: white inside (tinted per player), a dark rim. */
export const DISC_TEXTURE = 'avatar-disc'
/** Texture of the ring that marks one's own avatar. */
export const RING_TEXTURE = 'avatar-ring'

/** Draws the disc and ring textures once: Images batch far better than Shapes (100+ avatars). */
export function makeAvatarTextures(scene: Phaser.Scene): void {
  const size = (AVATAR_RADIUS + 3) * 2
  const draw = (key: string, paint: (ctx: CanvasRenderingContext2D, c: number) => void): void => {
    if (scene.textures.exists(key)) return
    const canvas = document.createElement('canvas')
    canvas.width = canvas.height = size * 2
    const ctx = canvas.getContext('2d')!
    ctx.scale(2, 2)
    paint(ctx, size / 2)
    scene.textures.addCanvas(key, canvas)
  }
  draw(DISC_TEXTURE, (ctx, c) => {
    ctx.beginPath()
    ctx.arc(c, c, AVATAR_RADIUS, 0, Math.PI * 2)
    ctx.fillStyle = '#ffffff'
    ctx.fill()
    ctx.lineWidth = 2
    ctx.strokeStyle = '#10141a'
    ctx.stroke()
  })
  draw(RING_TEXTURE, (ctx, c) => {
    ctx.beginPath()
    ctx.arc(c, c, AVATAR_RADIUS + 1, 0, Math.PI * 2)
    ctx.lineWidth = 3
    ctx.strokeStyle = '#ffffff'
    ctx.stroke()
  })
}

export class AvatarView {
  private readonly body: Phaser.GameObjects.Image
  private readonly ring: Phaser.GameObjects.Image | undefined
  private color: number
  private readonly label: Phaser.GameObjects.Text
  private image: Phaser.GameObjects.Image | undefined
  private imageKey: string | undefined
  private bubble: Phaser.GameObjects.Text | undefined
  private bubbleText = ''
  x = Number.NaN
  y = Number.NaN

  constructor(
    private readonly scene: Phaser.Scene,
    color: number,
    name: string,
    self: boolean,
  ) {
    const size = (AVATAR_RADIUS + 3) * 2
    this.color = color
    this.body = scene.add.image(0, 0, DISC_TEXTURE).setDisplaySize(size, size).setTint(color).setDepth(10)
    this.ring = self ? scene.add.image(0, 0, RING_TEXTURE).setDisplaySize(size, size).setDepth(11.5) : undefined
    this.label = scene.add
      .text(0, 0, name, { fontFamily: 'system-ui, sans-serif', fontSize: '12px', color: self ? '#ffffff' : '#e8edf3', stroke: '#10141a', strokeThickness: 3 })
      .setOrigin(0.5, 1)
      .setDepth(12)
  }

  setName(name: string): void {
    if (this.label.text !== name) this.label.setText(name)
  }

  setColor(color: number): void {
    if (this.color === color) return
    this.color = color
    this.body.setTint(color)
  }

  /** Shows the texture `key` (already in the texture manager) instead of the plain disc; undefined hides it. */
  setImage(key: string | undefined): void {
    if (key === this.imageKey) return
    this.imageKey = key
    this.image?.destroy()
    this.image = key === undefined ? undefined : this.scene.add.image(this.x, this.y, key).setDisplaySize(IMAGE_PX, IMAGE_PX).setDepth(11)
  }

  setBubble(text: string | undefined): void {
    const t = text ?? ''
    if (t === this.bubbleText) return
    this.bubbleText = t
    if (t === '') {
      this.bubble?.destroy()
      this.bubble = undefined
      return
    }
    this.bubble ??= this.scene.add
      .text(0, 0, '', {
        fontFamily: 'system-ui, sans-serif', fontSize: '12px', color: '#10141a', backgroundColor: '#f4f1e8',
        padding: { left: 6, right: 6, top: 3, bottom: 3 }, wordWrap: { width: BUBBLE_WRAP_PX }, align: 'center',
      })
      .setOrigin(0.5, 1)
      .setDepth(13)
    this.bubble.setText(t)
  }

  setAlpha(a: number): void {
    this.body.setAlpha(a)
    this.image?.setAlpha(a)
  }

  moveTo(x: number, y: number): void {
    this.x = x
    this.y = y
    this.body.setPosition(x, y)
    this.ring?.setPosition(x, y)
    this.image?.setPosition(x, y)
    this.label.setPosition(x, y - AVATAR_RADIUS - 3)
    this.bubble?.setPosition(x, y - AVATAR_RADIUS - 19)
  }

  destroy(): void {
    this.body.destroy()
    this.ring?.destroy()
    this.label.destroy()
    this.image?.destroy()
    this.bubble?.destroy()
  }
}
