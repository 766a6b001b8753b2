import type { WorldArea } from '../../peer/world-area.js'
import type { NetworkPeer } from '../network-peer.js'

/** The page's elements the view writes to (see index.html). */
export interface WorldViewElements {
  canvas: HTMLCanvasElement
  status: HTMLElement
  stats: HTMLElement
  neighbours: HTMLElement
  error: HTMLElement
  errorText: HTMLElement
}

const PRIORITY_NAMES = ['HIGH', 'MEDIUM', 'LOW'] as const

/**
 * A plain view of one peer until the Phaser game (issue 6) replaces it: the whole
 * world on a canvas (self, AOI circle, neighbours where we believe they are) and
 * a panel with connection state, links and queues. It only reads the peer.
 */
export class WorldView {
  constructor(
    private readonly el: WorldViewElements,
    private readonly area: WorldArea,
    private readonly url: string,
  ) {}

  /** Redraws the canvas (call every animation frame). */
  draw(net: NetworkPeer | undefined): void {
    const { canvas } = this.el
    const ctx = canvas.getContext('2d')
    if (ctx === null) return
    const size = Math.min(canvas.clientWidth, canvas.clientHeight)
    const dpr = window.devicePixelRatio || 1
    if (canvas.width !== Math.round(size * dpr)) canvas.width = canvas.height = Math.round(size * dpr)
    const k = canvas.width / Math.max(this.area.width, this.area.height)
    ctx.fillStyle = '#151b23'
    ctx.fillRect(0, 0, canvas.width, canvas.height)
    ctx.strokeStyle = '#222b36'
    ctx.lineWidth = 1
    for (let g = 250; g < this.area.width; g += 250) line(ctx, g * k, 0, g * k, canvas.height)
    for (let g = 250; g < this.area.height; g += 250) line(ctx, 0, g * k, canvas.width, g * k)
    if (net === undefined) return
    const { peer } = net
    const me = { x: peer.x * k, y: peer.y * k }
    ctx.strokeStyle = '#3d7bd9'
    ctx.setLineDash([4 * dpr, 4 * dpr])
    ctx.beginPath()
    ctx.arc(me.x, me.y, peer.von.aoi * k, 0, Math.PI * 2)
    ctx.stroke()
    ctx.setLineDash([])
    for (const n of peer.neighbours()) {
      const open = peer.links.isOpen(n.id)
      ctx.strokeStyle = open ? '#2d4f3a' : '#4d3a2a'
      line(ctx, me.x, me.y, n.x * k, n.y * k)
      dot(ctx, n.x * k, n.y * k, 4 * dpr, open ? '#5ec27a' : '#d9a35e')
    }
    dot(ctx, me.x, me.y, 6 * dpr, '#6ea8ff')
  }

  /** Refreshes the panel (a few times a second). */
  panel(net: NetworkPeer | undefined): void {
    if (net === undefined) {
      this.el.status.textContent = 'starting…'
      return
    }
    const { peer, signaling } = net
    const s = peer.stats()
    // The node refused or dropped us at least once and we are not back in.
    const unreachable = signaling.state === 'backoff' || (signaling.state === 'connecting' && signaling.stats.connects > 1)
    this.el.status.textContent = `peer ${peer.id.slice(0, 12)}… · ${s.state} · signaling node ${signaling.state}`
    // Without the node a peer cannot get in; once in, the world goes on without it.
    this.el.error.hidden = !(unreachable && s.state === 'waiting')
    this.el.errorText.textContent =
      `Cannot reach the signaling node at ${this.url} (attempt ${signaling.stats.connects}). Retrying in the background with backoff.`
    const q = s.queues.map((c, i) => `${PRIORITY_NAMES[i]} ${c.count} (${c.bytes} B)`).join(' · ')
    const rows: [string, string][] = [
      ['position', `${peer.x.toFixed(0)}, ${peer.y.toFixed(0)} · AOI ${peer.von.aoi.toFixed(0)}`],
      ['neighbours', `${s.neighbours}`],
      ['links', `${s.links.open} open, ${s.links.connecting} connecting`],
      ['links opened', `${s.introduced} introduced by peers, ${s.viaSignaling} via the signaling node`],
      ['links dialled', `${s.dialled.introduced} introduced, ${s.dialled.viaSignaling} via the node`],
      ['queues', q],
      ['join', s.joinMs === undefined ? '—' : `${s.joinMs.toFixed(0)} ms · ${s.rejoins} rejoins`],
      ['cached peers', `${peer.cache.size}`],
      ['signaling node', unreachable && s.state === 'joined' ? `${signaling.state} (the world keeps working over peer links)` : signaling.state],
    ]
    this.el.stats.replaceChildren(...rows.flatMap(([k, v]) => [tag('dt', k), tag('dd', v)]))
    const items = peer.neighbours().map((n) => {
      const d = Math.hypot(n.x - peer.x, n.y - peer.y)
      return tag('li', `${n.id.slice(0, 10)}… at ${n.x.toFixed(0)}, ${n.y.toFixed(0)} (${d.toFixed(0)} away${peer.links.isOpen(n.id) ? '' : ', connecting'})`)
    })
    this.el.neighbours.replaceChildren(...items)
  }
}

function tag(name: string, text: string): HTMLElement {
  const e = document.createElement(name)
  e.textContent = text
  return e
}

function line(ctx: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number): void {
  ctx.beginPath()
  ctx.moveTo(x1, y1)
  ctx.lineTo(x2, y2)
  ctx.stroke()
}

function dot(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color
  ctx.beginPath()
  ctx.arc(x, y, r, 0, Math.PI * 2)
  ctx.fill()
}
