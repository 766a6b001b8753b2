import type { Intents } from '../ui/intents.js'
import type { ConnectionState, WorldStores } from '../ui/stores.js'
import { byId, fillList } from './dom.js'
import type { FrameRecorder } from './frame-stats.js'

const PRIORITY_NAMES = ['HIGH', 'MED', 'LOW'] as const

/** Open links by path kind, the kinds present only: "2 host · 1 relay". */
function paths(c: ConnectionState): string {
  const parts = Object.entries(c.paths).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k === 'unknown' ? 'pending' : k}`)
  return parts.length === 0 ? '—' : parts.join(' · ')
}

const ICE_SOURCE = { node: 'from the node', override: 'from ?ice=', kept: 'kept from the node\'s last', pending: 'waiting for the node' } as const

function queues(c: ConnectionState): string {
  return c.queues.map((q, i) => `${PRIORITY_NAMES[i]} ${q.count}${q.bytes > 0 ? ` (${(q.bytes / 1024).toFixed(1)} KiB)` : ''}`).join(' · ')
}

/** The connection panel and the problem banner, refreshed a few times a second. */
export function mountHud(stores: WorldStores, intents: Intents, frames: FrameRecorder | undefined): () => void {
  const stats = byId('hud-stats')
  const summary = byId('hud-summary')
  const banner = byId('problem')
  byId('hud-world').textContent = `· world “${stores.connection.getState().world}”`
  byId('retry').addEventListener('click', () => intents.retryNow())
  const render = (): void => {
    const c = stores.connection.getState()
    const s = stores.self.getState()
    let fakes = 0
    for (const p of stores.neighbours.getState().players.values()) if (p.fake) fakes++
    const frame = frames?.meanIntervalMs()
    summary.textContent = `${c.peerState} · ${c.neighbours} near · ${c.links.open} link${c.links.open === 1 ? '' : 's'}${c.problem === undefined ? '' : ' · !'}`
    fillList(stats, [
      ['you', `${s.name} · ${s.x.toFixed(0)}, ${s.y.toFixed(0)}`],
      ['state', `${c.peerState} · signaling ${c.signaling}`],
      ['neighbours', `${c.neighbours}${fakes > 0 ? ` (+${fakes} simulated)` : ''} · AOI ${s.aoi.toFixed(0)}`],
      ['links', `${c.links.open} open · ${c.links.connecting} connecting`],
      ['via', `${c.introduced} introduced · ${c.viaSignaling} via node`],
      ['paths', paths(c)],
      ['relays', `${c.relay.homes} home · ${c.relay.serving === undefined ? 'not relaying' : `relaying ${c.relay.serving} link${c.relay.serving === 1 ? '' : 's'}`}${c.relay.tampered > 0 ? ` · ${c.relay.tampered} tampered!` : ''}`],
      ['ICE', `${c.ice.summary} (${ICE_SOURCE[c.ice.source]})`],
      ...(c.failedLinks.length === 0 ? [] : [['failed', `${c.failedLinks.length} in the last minute (${c.failedLinks[c.failedLinks.length - 1]!.code})`] as [string, string]]),
      ['queues', queues(c)],
      ['move latency', c.moveLatencyMs === undefined ? 'n/a' : `${c.moveLatencyMs.toFixed(0)} ms · p95 ${(c.moveLatencyP95Ms ?? c.moveLatencyMs).toFixed(0)} ms (RTT/2)`],
      ['DHT', c.dhtContacts === undefined ? 'off' : `${c.dhtContacts} contacts`],
      ['frame', frame === undefined ? '—' : `${frame.toFixed(1)} ms (${(1000 / frame).toFixed(0)} fps)`],
    ])
    const p = c.problem
    banner.hidden = p === undefined
    if (p !== undefined) {
      banner.className = `panel ${p.severity}`
      byId('problem-title').textContent = p.title
      byId('problem-text').textContent = p.text
      byId('retry').textContent = p.action ?? 'Retry now'
    }
  }
  render()
  const timer = window.setInterval(render, 250)
  return () => window.clearInterval(timer)
}
