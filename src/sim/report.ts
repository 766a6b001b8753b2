import type { MetricValue, OverlayPicture, Series } from './scenario.js'
import type { TrafficRow } from './traffic.js'

export interface ReportInput {
  readonly title: string
  readonly command: string
  readonly metrics: Record<string, MetricValue>
  readonly series: readonly Series[]
  readonly overlay?: OverlayPicture
  readonly notes?: readonly string[]
  readonly traffic?: readonly TrafficRow[]
}

/** A self-contained HTML report: metrics table, one SVG plot per series, the overlay. */
export function renderReport(input: ReportInput): string {
  const rows = Object.entries(input.metrics)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(formatMetric(v))}</td></tr>`)
    .join('')
  const plots = input.series.map(plotSeries).join('\n')
  const notes = (input.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232b;max-width:1100px}
table{border-collapse:collapse}td{border-bottom:1px solid #e3e7ec;padding:3px 14px 3px 0}
td:first-child{color:#56606b}code{background:#f1f3f5;padding:1px 4px}
.plots{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0}figcaption{font-weight:600;margin:6px 0}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p><code>${esc(input.command)}</code></p>
${notes === '' ? '' : `<ul>${notes}</ul>`}
<h2>Metrics</h2><table>${rows}</table>
${input.traffic === undefined ? '' : trafficTable(input.traffic)}
<h2>Over time</h2><div class="plots">${plots}</div>
${input.overlay === undefined ? '' : `<h2>The overlay at the end</h2>${drawOverlay(input.overlay)}`}
</body></html>
`
}

function trafficTable(rows: readonly TrafficRow[]): string {
  const num = (v: number, digits: number): string => `<td style="text-align:right">${v.toFixed(digits)}</td>`
  const body = rows.map((r) => `<tr><td>${esc(r.type)}</td>${num(r.bytes, 1)}${num(r.share * 100, 1)}${num(r.datagrams, 2)}${num(r.wire, 1)}</tr>`).join('')
  return `<h2>Sent by message type</h2><p>Per measured peer per second; wire bytes add the packet headers (IP, UDP, DTLS, SCTP).</p>
<table><tr><td>message type</td><td>bytes/s</td><td>share %</td><td>datagrams/s</td><td>wire B/s</td></tr>${body}</table>`
}

function formatMetric(v: MetricValue): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(5)
  return String(v)
}

function plotSeries(s: Series): string {
  const W = 500
  const H = 220
  const M = { l: 56, r: 12, t: 10, b: 30 }
  const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  if (pts.length === 0) return `<figure><figcaption>${esc(s.name)}</figcaption><p>no data</p></figure>`
  const xs = pts.map((p) => p[0])
  const ys = pts.map((p) => p[1])
  const x0 = Math.min(...xs)
  const x1 = Math.max(...xs, x0 + 1e-9)
  let y0 = Math.min(0, ...ys)
  let y1 = Math.max(...ys)
  if (y1 - y0 < 1e-9) {
    y1 += 1
    y0 -= y0 === 0 ? 0 : 1
  }
  const sx = (x: number): number => M.l + ((x - x0) / (x1 - x0)) * (W - M.l - M.r)
  const sy = (y: number): number => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b)
  const path = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('')
  const ticks = [y0, (y0 + y1) / 2, y1]
    .map((v) => `<text x="${M.l - 6}" y="${sy(v) + 4}" text-anchor="end">${esc(short(v))}</text>`)
    .join('')
  return `<figure><figcaption>${esc(s.name)} (${esc(s.unit)})</figcaption>
<svg width="${W}" height="${H}" font-size="11" fill="#56606b">
<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fafbfc" stroke="#dde2e8"/>
${ticks}<text x="${M.l}" y="${H - 8}">${esc(short(x0))} s</text><text x="${W - M.r}" y="${H - 8}" text-anchor="end">${esc(short(x1))} s</text>
<path d="${path}" fill="none" stroke="#2f6fde" stroke-width="1.6"/></svg></figure>`
}

/** Draws at most ~1500 nodes: larger worlds show a window around the centre. */
function drawOverlay(o: OverlayPicture): string {
  const MAX = 1500
  let keep = o.nodes.map((_, i) => i)
  let view = { x: 0, y: 0, w: o.width, h: o.height }
  if (o.nodes.length > MAX) {
    const frac = Math.sqrt(MAX / o.nodes.length)
    view = { x: (o.width * (1 - frac)) / 2, y: (o.height * (1 - frac)) / 2, w: o.width * frac, h: o.height * frac }
    keep = keep.filter((i) => inside(o.nodes[i]!, view))
  }
  const kept = new Set(keep)
  const size = 760
  const k = size / Math.max(view.w, view.h)
  const px = (x: number): string => ((x - view.x) * k).toFixed(1)
  const py = (y: number): string => ((y - view.y) * k).toFixed(1)
  const links = o.links
    .filter(([a, b]) => kept.has(a) && kept.has(b))
    .map(([a, b]) => `<line x1="${px(o.nodes[a]!.x)}" y1="${py(o.nodes[a]!.y)}" x2="${px(o.nodes[b]!.x)}" y2="${py(o.nodes[b]!.y)}"/>`)
    .join('')
  const circles = keep.map((i) => `<circle cx="${px(o.nodes[i]!.x)}" cy="${py(o.nodes[i]!.y)}" r="${(o.nodes[i]!.aoi * k).toFixed(1)}"/>`).join('')
  const dots = keep.map((i) => `<circle cx="${px(o.nodes[i]!.x)}" cy="${py(o.nodes[i]!.y)}" r="2.2"/>`).join('')
  const caption = o.nodes.length > MAX ? `<p>A window of ${keep.length} of ${o.nodes.length} peers around the centre.</p>` : ''
  return `${caption}<svg width="${(view.w * k).toFixed(0)}" height="${(view.h * k).toFixed(0)}" style="background:#fbfcfd;border:1px solid #dde2e8">
<g fill="none" stroke="#2f6fde" stroke-opacity="0.10">${circles}</g>
<g stroke="#7a8591" stroke-opacity="0.45" stroke-width="0.7">${links}</g>
<g fill="#d9480f">${dots}</g></svg>`
}

function inside(p: { x: number; y: number }, v: { x: number; y: number; w: number; h: number }): boolean {
  return p.x >= v.x && p.x <= v.x + v.w && p.y >= v.y && p.y <= v.y + v.h
}

function short(v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`
  if (a >= 100) return v.toFixed(0)
  return v.toFixed(a >= 1 ? 1 : 3)
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
