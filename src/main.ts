import type { Env, KeyPair } from './core/env.js'
import { parsePeerId, type PeerId } from './core/id.js'
import { loadIdentity } from './peer/identity.js'
import { dhtService } from './peer/dht-service.js'
import { loadPosition, savePosition } from './peer/saved-position.js'
import { clampToWorld, DEFAULT_WORLD } from './peer/world-area.js'
import {
  claimTabSlot, createBrowserEnv, DEFAULT_WORLD_NAME, IdbStore, PrefixedStore, startNetworkPeer, WorldView, type NetworkPeer,
} from './platform/browser/index.js'
import { MemoryStore } from './platform/memory-store.js'
import { isWorldName } from './platform/signaling/signaling-protocol.js'

// Browser entry: env -> identity -> WebRTC peer on the signaling node of this
// origin -> a plain canvas view. Issue 6 replaces the view with Phaser and stores.
//   ?world=NAME  ?peers=ID,ID (bootstrap through these)  ?signaling=ws://HOST:PORT/
const UNITS_PER_SEC = 50 // VON's buffer rule for the default 30-unit buffer: 5 units a step, 10 steps a second
const MOVE_EVERY_MS = 100
const SAVE_EVERY_MS = 2000
const KEYS: Record<string, [number, number]> = {
  ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0],
  KeyW: [0, -1], KeyS: [0, 1], KeyA: [-1, 0], KeyD: [1, 0],
}

const params = new URLSearchParams(location.search)
const world = isWorldName(params.get('world')) ? params.get('world')! : DEFAULT_WORLD_NAME
const url = params.get('signaling') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
const manualPeers = (params.get('peers') ?? '').split(',').map((p) => parsePeerId(p.trim())).filter((p): p is PeerId => p !== null)

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const view = new WorldView(
  { canvas: byId('world'), status: byId('status'), stats: byId('stats'), neighbours: byId('neighbours'), error: byId('error'), errorText: byId('error-text') },
  DEFAULT_WORLD,
  url,
)

let net: NetworkPeer | undefined
const held = new Set<string>()

async function setup(): Promise<{ env: Env; keyPair: KeyPair }> {
  const slot = await claimTabSlot()
  try {
    const store = slot === undefined ? new MemoryStore() : new PrefixedStore(new IdbStore(), `tab${slot}/`)
    const env = createBrowserEnv({ store })
    return { env, keyPair: await loadIdentity(env) }
  } catch {
    // No IndexedDB (private mode, blocked storage): a throwaway identity for this tab.
    const env = createBrowserEnv({ store: new MemoryStore() })
    return { env, keyPair: await loadIdentity(env) }
  }
}

async function boot(env: Env, keyPair: KeyPair): Promise<void> {
  const at = (await loadPosition(env.store).catch(() => undefined)) ?? {
    x: DEFAULT_WORLD.width * (0.2 + 0.6 * env.rng.next()),
    y: DEFAULT_WORLD.height * (0.2 + 0.6 * env.rng.next()),
  }
  net = await startNetworkPeer({ env, keyPair, WebSocket: globalThis.WebSocket }, { url, world, peer: { manualPeers, services: [dhtService()] } })
  net.peer.join(at.x, at.y)
}

function step(dtMs: number): void {
  if (net === undefined) return
  let dx = 0
  let dy = 0
  for (const code of held) {
    dx += KEYS[code]?.[0] ?? 0
    dy += KEYS[code]?.[1] ?? 0
  }
  if (dx === 0 && dy === 0) return
  const len = Math.hypot(dx, dy)
  const d = (UNITS_PER_SEC * dtMs) / 1000
  const to = clampToWorld(DEFAULT_WORLD, net.peer.x + (dx / len) * d, net.peer.y + (dy / len) * d)
  net.peer.move(to.x, to.y)
}

const { env, keyPair } = await setup()
await boot(env, keyPair)

byId<HTMLButtonElement>('retry').addEventListener('click', () => {
  // A fresh client dials at once instead of waiting out the backoff.
  const old = net
  net = undefined
  void old?.close().then(() => boot(env, keyPair))
})
window.addEventListener('keydown', (e) => {
  if (KEYS[e.code] === undefined) return
  held.add(e.code)
  e.preventDefault()
})
window.addEventListener('keyup', (e) => held.delete(e.code))
window.addEventListener('blur', () => held.clear())
window.addEventListener('pagehide', () => void net?.close())

let lastMove = performance.now()
let lastSaved = ''
setInterval(() => {
  const now = performance.now()
  step(now - lastMove)
  lastMove = now
}, MOVE_EVERY_MS)
setInterval(() => view.panel(net), 250)
setInterval(() => {
  const here = net === undefined ? '' : `${net.peer.x.toFixed(1)},${net.peer.y.toFixed(1)}`
  if (net !== undefined && here !== lastSaved) {
    lastSaved = here
    void savePosition(env.store, net.peer.x, net.peer.y).catch(() => {})
  }
}, SAVE_EVERY_MS)
const frame = (): void => {
  view.draw(net)
  requestAnimationFrame(frame)
}
requestAnimationFrame(frame)
view.panel(net)
