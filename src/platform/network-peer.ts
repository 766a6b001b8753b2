import type { Env, KeyPair } from '../core/env.js'
import { Peer, type PeerInit, type PeerListener } from '../peer/peer.js'
import { SignalingClient, type SignalingClientInit } from './signaling/signaling-client.js'
import { loadIceServers, saveIceServers } from './ice-cache.js'
import type { IceServer } from './ice-servers.js'
import { WebRtcTransport, type WebRtcTransportInit } from './webrtc/webrtc-transport.js'

export interface NetworkPeerComponents {
  env: Env
  keyPair: KeyPair
  /** `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node. */
  WebSocket: new (url: string) => object
  /** Node only: the `@roamhq/wrtc` module. */
  wrtc?: object
  listener?: PeerListener
  /** The node dropped us because this identity connected elsewhere; the signaling client stopped (see SignalingClient.takeOver). */
  onReplaced?: () => void
  /** Hears the steps of getting in: the node's host list, each connection's start and open (the page's join timeline). */
  onPhase?: (phase: 'hosts' | 'dial' | 'link-open') => void
}

export interface NetworkPeerInit {
  /** ws:// or wss:// URL of the signaling node. */
  url: string
  /** The world (the node's room). @default 'main' */
  world?: string
  /** @default {} */
  peer?: PeerInit
  /** Limits and ICE policy of the WebRTC transport. @default {} */
  transport?: Omit<WebRtcTransportInit, 'iceServers'>
  /**
   * ICE servers to use instead of the ones the signaling node hands out
   * (`?ice=` in the page, `--ice` in Node: for tests and odd networks).
   * @default undefined (the node's)
   */
  ice?: IceServer[]
  /** Reconnection backoff and limits of the signaling client. @default {} */
  signaling?: Pick<SignalingClientInit, 'backoffMinMs' | 'backoffMaxMs' | 'joinTimeoutMs' | 'maxFrameBytes'>
}

/** A peer on the real network, with the pieces it runs on. */
export interface NetworkPeer {
  readonly peer: Peer
  readonly signaling: SignalingClient
  readonly transport: WebRtcTransport
  /**
   * Where the ICE servers in use came from: `override` (`ice`), `node` (its
   * welcome or renewal), `kept` (the last ones the node handed out, from the
   * store, while the node has not answered), `pending` (none yet).
   */
  iceSource(): 'override' | 'node' | 'kept' | 'pending'
  /** Leaves the world, closes every link and the node's socket, saves the cache. */
  close(): Promise<void>
}

/** The default world of `npm start`, the anchors and the browser client. */
export const DEFAULT_WORLD_NAME = 'main'

/**
 * Wires a {@link Peer} to WebRTC and a signaling node, the same way in the
 * browser and in Node: relayed signaling goes to the peer's links, a fresh
 * host cache wakes a waiting peer, a relay to a peer the node does not know
 * drops it from the cache. The client reconnects with backoff by itself.
 * Dials the node at once and resolves once the cached peers (and kept ICE
 * servers) are loaded; then call `peer.join(x, y)`.
 */
export async function startNetworkPeer(c: NetworkPeerComponents, init: NetworkPeerInit): Promise<NetworkPeer> {
  const { env, keyPair } = c
  const box: { peer?: Peer } = {}
  const signaling = new SignalingClient(
    { keyPair, crypto: env.crypto, clock: env.clock, timers: env.timers, rng: env.rng, log: env.log, WebSocket: c.WebSocket },
    {
      ...init.signaling,
      url: init.url,
      world: init.world ?? DEFAULT_WORLD_NAME,
      onSignal: (from, initiator, data) => box.peer?.receiveSignal(from, initiator, data),
      onHosts: () => {
        c.onPhase?.('hosts')
        box.peer?.hostsChanged()
      },
      ...(c.onReplaced === undefined ? {} : { onReplaced: c.onReplaced }),
      onIce: (servers) => {
        if (init.ice !== undefined) return
        transport.setIceServers(servers)
        saveIceServers(env.store, servers).catch((err: unknown) => env.log.warn('cannot keep the ICE servers', { err: String(err) }))
      },
      onError: (code, _message, to) => {
        if (code === 'unknown-peer' && to !== undefined) box.peer?.forget(to)
      },
    },
  )
  const transport = new WebRtcTransport(
    {
      keyPair, crypto: env.crypto, clock: env.clock, timers: env.timers, rng: env.rng, log: env.log, ...(c.wrtc === undefined ? {} : { wrtc: c.wrtc }),
      ...(c.onPhase === undefined ? {} : { observe: (e: 'dial' | 'open') => c.onPhase!(e === 'dial' ? 'dial' : 'link-open') }),
    },
    { ...init.transport, iceServers: init.ice ?? [] },
  )
  const peer = new Peer({ env, keyPair, transport, node: signaling, ...(c.listener === undefined ? {} : { listener: c.listener }) }, init.peer)
  box.peer = peer
  // The node is dialled at once: the stored cache and ICE servers load meanwhile (a join waits for `join`, after both).
  signaling.start()
  let kept = false
  const keepIce = async (): Promise<void> => {
    if (init.ice !== undefined) return
    const servers = await loadIceServers(env.store, Date.now() / 1000).catch(() => undefined)
    if (servers !== undefined && signaling.iceServers === undefined) {
      transport.setIceServers(servers)
      kept = true
    }
  }
  await Promise.all([peer.load(), keepIce()])
  return {
    peer,
    signaling,
    transport,
    iceSource: () => (init.ice !== undefined ? 'override' : signaling.iceServers !== undefined ? 'node' : kept ? 'kept' : 'pending'),
    async close() {
      await peer.close()
      signaling.close()
    },
  }
}
