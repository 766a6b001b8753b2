import type { Env, KeyPair } from './core/env.js'
import { peerIdFromPublicKey } from './core/id.js'
import { assetsService } from './peer/assets-service.js'
import { chatService } from './peer/chat-service.js'
import { dhtService } from './peer/dht-service.js'
import { playerService } from './peer/player-service.js'
import { presenceService } from './peer/presence-service.js'
import { loadIdentity } from './peer/identity.js'
import type { PeerServiceFactory } from './peer/session.js'
import { DEFAULT_WORLD } from './peer/world-area.js'
import {
  claimTabSlot, createBrowserEnv, DEFAULT_WORLD_NAME, IdbStore, PrefixedStore, startNetworkPeer, type NetworkPeer,
} from './platform/browser/index.js'
import { BROWSER_RELAY } from './link/relay.js'
import { MemoryStore } from './platform/memory-store.js'
import { Controller, startPosition } from './ui/controller.js'
import { MoveTrace } from './ui/move-trace.js'
import { UNITS_PER_SEC } from './ui/movement.js'
import { observedWebSocket } from './ui/observed-socket.js'
import { PeerBridge } from './ui/peer-bridge.js'
import { PeerServiceLink } from './ui/service-link.js'
import { defaultName, loadProfile } from './ui/profile.js'
import { startStress } from './ui/stress.js'
import { createWorldStores } from './ui/stores.js'
import { createTestHook, type FrameStats, type WorldTestHook } from './ui/test-hook.js'
import { readPageParams } from './ui/url-params.js'
import { generateTerrain, nearestWalkable, seedOf, walkable } from './ui/terrain.js'
import { JoinTimeline } from './ui/join-timeline.js'
import { listSavedPlayers, slotPrefix } from './ui/saved-players.js'
import { pickPlayer } from './game/player-picker.js'

// Browser entry: env -> identity -> stores -> WebRTC peer on the signaling node of
// this origin -> the game (Phaser, loaded on demand). URL parameters:
//   ?world=NAME        world (the node's room and the map's seed)
//   ?signaling=ws://H:P/  another signaling node
//   ?peers=ID,ID       bootstrap through these peers too
//   ?headless=1        no rendering at all (bots): same logic, stores and window.__world
//   ?stress=N          N fake avatars walking around the player (frame-time benchmark)
//   ?offline=1         no network (with stress: rendering only)
//   ?dht=0             no DHT and no player-state service (tests of the overlay alone)
//   ?log=debug         console log level (debug shows every link opened and closed)
//   ?ice=none|node|stun:H:P,...|[JSON]   ICE servers instead of the node's (tests, odd networks)
//   ?relay=1           TURN only: every link goes through the TURN server (checks that TURN works)
// A value the page cannot use (or an unknown parameter) is said in a notice, with what was used instead
// (src/ui/url-params.ts).
const AOI_RADIUS = 200 // VonInit's default

declare global {
  interface Window {
    __world?: WorldTestHook
  }
}

const now = (): number => performance.now()
const timeline = new JoinTimeline(now)
timeline.mark('script')
const params = readPageParams(location.search, DEFAULT_WORLD_NAME)
const { world, manualPeers, stress } = params
/** A page served apart from its node names the node in `<meta name="p2p-signaling">` (`npm run dev` does); else the page's own origin. */
const metaNode = document.querySelector<HTMLMetaElement>('meta[name="p2p-signaling"]')?.content.replace('{hostname}', location.hostname)
const url = params.signalingUrl ?? metaNode ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`

async function setup(): Promise<{ env: Env; keyPair: KeyPair }> {
  try {
    const idb = new IdbStore()
    const slot = await claimTabSlot({
      listSaved: () => listSavedPlayers(idb),
      // A person picks; a headless page (a bot, a test) plays the first saved player no tab is playing.
      pick: (choices) => (params.headless ? Promise.resolve(choices[0]!.slot) : pickPlayer(choices)),
    })
    const store = slot === undefined ? new MemoryStore() : new PrefixedStore(idb, slotPrefix(slot))
    const env = createBrowserEnv({ store, logLevel: params.log ?? (params.headless ? 'warn' : 'info') })
    return { env, keyPair: await loadIdentity(env) }
  } catch {
    // No IndexedDB (private mode, blocked storage): a throwaway identity for this tab.
    const env = createBrowserEnv({ store: new MemoryStore() })
    return { env, keyPair: await loadIdentity(env) }
  }
}

/** The services every browser peer runs (the order matters: see each factory). */
function services(): PeerServiceFactory[] {
  // The player service keeps its state in the DHT: without it, the saved position is all that persists.
  if (!params.dht) return [assetsService(), presenceService(), chatService()]
  return [dhtService(), assetsService(), playerService(), presenceService(), chatService()]
}

// The renderer downloads while the page finds its player and the node (it runs only once the first link is up: below).
const gameModule = params.headless ? undefined : import('./game/index.js')
const { env, keyPair } = await setup()
timeline.mark('identity')
const id = peerIdFromPublicKey(env.crypto, keyPair.publicKey)
// The map is the world's name: generated here once, for walking (no water) and for the game's drawing.
const terrain = generateTerrain(seedOf(world), DEFAULT_WORLD)
const [start, profile] = await Promise.all([startPosition(env, DEFAULT_WORLD, (p) => nearestWalkable(terrain, p)), loadProfile(env.store)])
const stores = createWorldStores({ id, world, signalingUrl: url, x: start.x, y: start.y, aoi: AOI_RADIUS, name: profile.name ?? defaultName(id) })
// The trace stamps moves with the wall clock, which every page of a machine shares (a benchmark pairs them).
const trace = new MoveTrace(() => performance.timeOrigin + performance.now())
const bridge = new PeerBridge(stores, now, trace, timeline)
bridge.setNotices(params.notices)
const WebSocketClass = observedWebSocket((code, reason) => bridge.socketClosed(code, reason), () => timeline.mark('socket-open'))
let net: NetworkPeer | undefined
let booting = false

async function boot(): Promise<void> {
  booting = true
  try {
    net = await startNetworkPeer({ env, keyPair, WebSocket: WebSocketClass, listener: bridge.listener, onReplaced: stepBack, onPhase: (p) => timeline.mark(p) }, {
      url, world,
      peer: {
        manualPeers, services: services(), link: { relay: { ...BROWSER_RELAY, volunteer: params.volunteer } },
        // The world's rules every page holds its neighbours to (VonInit: the map, the walking speed).
        von: { aoiRadius: AOI_RADIUS, width: DEFAULT_WORLD.width, height: DEFAULT_WORLD.height, speedMax: UNITS_PER_SEC },
      },
      ...(params.ice === undefined ? {} : { ice: params.ice }),
      ...(params.relay ? { transport: { iceTransportPolicy: 'relay' as const } } : {}),
    })
    bridge.attach(net)
    const { x, y } = stores.self.getState()
    net.peer.join(x, y)
  } finally {
    booting = false
  }
}

/** The same player connected elsewhere: let go of the world (the banner offers to take it back). */
function stepBack(): void {
  const old = net
  net = undefined
  bridge.replaced()
  void old?.close()
}

const controller = new Controller({
  env, stores, bridge, area: DEFAULT_WORLD, now, trace, walkable: (x, y) => walkable(terrain, x, y),
  reconnect: () => {
    if (booting) return
    // A fresh client dials at once instead of waiting out the backoff.
    const old = net
    net = undefined
    bridge.attach(undefined)
    void (old?.close() ?? Promise.resolve()).then(boot)
  },
  reload: () => location.reload(),
})
controller.services = new PeerServiceLink(stores, () => bridge.peer, now, (p) => controller.setProfile(p.name, p.avatar))
controller.setProfile(profile.name, profile.avatar)
controller.start()
if (!params.offline) await boot()
if (stress > 0) startStress(stores, DEFAULT_WORLD, stress, now)

/**
 * Starting the game (Phaser, the map) holds the main thread for a few hundred
 * ms, and every step of the first WebRTC handshake waits for it. So the page
 * lets the first link open (or finds itself alone, or gives up after
 * FIRST_LINK_WAIT_MS) before it starts the game: the other player is drawn
 * sooner than if both ran at once (npm run bench:join).
 */
const FIRST_LINK_WAIT_MS = 1500
async function firstLinkOrAlone(): Promise<void> {
  const end = now() + FIRST_LINK_WAIT_MS
  while (now() < end) {
    const peer = net?.peer
    if (peer === undefined || peer.links.openPeers().length > 0 || peer.state === 'joined') return
    await new Promise((r) => setTimeout(r, 10))
  }
}

let frames: (() => FrameStats) | undefined
if (gameModule !== undefined) {
  await firstLinkOrAlone()
  const game = await gameModule
  const mounted = game.mountGame({ stores, intents: controller, area: DEFAULT_WORLD, terrain, now, timeline })
  frames = () => mounted.frames.stats()
}
window.__world = createTestHook(stores, controller, now, () => frames?.(), { trace, timeline, peer: () => bridge.peer })
window.addEventListener('pagehide', () => void net?.close())
