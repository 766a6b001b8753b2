import { join } from 'node:path'
import wrtc from '@roamhq/wrtc'
import { WebSocket } from 'ws'
import type { Log } from '../../core/env.js'
import type { IceServer } from '../ice-servers.js'
import { loadIdentity } from '../../peer/identity.js'
import { dhtService } from '../../peer/dht-service.js'
import { DEFAULT_WORLD, spreadPositions, type WorldArea } from '../../peer/world-area.js'
import { DEFAULT_WORLD_NAME, startNetworkPeer, type NetworkPeer } from '../network-peer.js'
import { ANCHOR_RELAY } from '../../link/relay.js'
import { createNodeEnv } from './node-env.js'

export interface AnchorsInit {
  count: number
  /** The signaling node to enter through. */
  url: string
  /** @default 'main' */
  world?: string
  /** Each anchor keeps its identity and peer cache under `<dataDir>/anchor-<i>`; in memory without. @default undefined */
  dataDir?: string
  /** @default DEFAULT_WORLD (2000 x 2000) */
  area?: WorldArea
  /** Gives up waiting for one anchor to join after this long (it keeps trying on its own). @default 15000 */
  joinWaitMs?: number
  /** ICE servers instead of the node's (`--ice`). @default undefined (the node's) */
  ice?: IceServer[]
  /**
   * `url` is this host's own node serving TLS with a certificate for its public
   * name: accept it on loopback without checking the name. Safe because links
   * authenticate peer ids end to end; the node only relays offers.
   * @default false
   */
  loopbackTls?: boolean
}

export interface Anchors {
  readonly peers: readonly NetworkPeer[]
  close(): Promise<void>
}

/**
 * Always-on Node peers (seed 003's "reliable peers"): the same Peer as a browser,
 * on @roamhq/wrtc with a file store, standing at fixed positions spread over the
 * world, so the world and its DHT records (in their memory) outlive every browser.
 * They start one after another so that each enters through the ones before it.
 */
export async function startAnchors(log: Log, init: AnchorsInit): Promise<Anchors> {
  const positions = spreadPositions(init.area ?? DEFAULT_WORLD, init.count)
  const peers: NetworkPeer[] = []
  for (const [i, pos] of positions.entries()) {
    const env = createNodeEnv({
      log: childLog(log, { anchor: i }),
      ...(init.dataDir === undefined ? {} : { dataDir: join(init.dataDir, `anchor-${i}`) }),
    })
    const keyPair = await loadIdentity(env)
    const net = await startNetworkPeer(
      { env, keyPair, WebSocket: init.loopbackTls === true ? LoopbackTlsWebSocket : WebSocket, wrtc },
      { url: init.url, world: init.world ?? DEFAULT_WORLD_NAME, peer: { services: [dhtService()], link: { relay: ANCHOR_RELAY } }, ...(init.ice === undefined ? {} : { ice: init.ice }) },
    )
    peers.push(net)
    net.peer.join(pos.x, pos.y)
    const joined = await waitFor(() => net.peer.state === 'joined', init.joinWaitMs ?? 15_000)
    log.info(joined ? 'anchor joined' : 'anchor still joining', { anchor: i, peer: net.peer.id.slice(0, 12), x: pos.x, y: pos.y })
  }
  return {
    peers,
    async close() {
      await Promise.all(peers.map((p) => p.close()))
    },
  }
}

/** `ws`'s WebSocket that accepts the node's certificate without checking its name (loopback only). */
class LoopbackTlsWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { rejectUnauthorized: false })
  }
}

function childLog(log: Log, fields: Record<string, unknown>): Log {
  return {
    debug: (msg, f) => log.debug(msg, { ...fields, ...f }),
    info: (msg, f) => log.info(msg, { ...fields, ...f }),
    warn: (msg, f) => log.warn(msg, { ...fields, ...f }),
    error: (msg, f) => log.error(msg, { ...fields, ...f }),
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > end) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}
