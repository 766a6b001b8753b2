import wrtc from '@roamhq/wrtc'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { IceConfig } from '../../signaling/ice.js'
import { SignalingServer } from '../../signaling/server.js'
import { utf8 } from '../core/bytes.js'
import { credentialExpiry, ICE_CACHE_KEY, loadIceServers, saveIceServers } from './ice-cache.js'
import { MemoryStore } from './memory-store.js'
import { startNetworkPeer } from './network-peer.js'
import { createNodeEnv } from './node/node-env.js'

const STUN = { urls: ['stun:world.example.org:3478'] }
const turn = (expiry: number) => ({ urls: ['turn:world.example.org:3478?transport=udp'], username: `${expiry}:ab`, credential: 'c2VjcmV0' })

describe('the ICE servers a peer keeps', () => {
  it('come back after a reload, without TURN credentials that have run out', async () => {
    const store = new MemoryStore()
    expect(await loadIceServers(store, 1000)).toBeUndefined()
    await saveIceServers(store, [STUN, turn(5000)])
    expect(await loadIceServers(store, 1000)).toEqual([STUN, turn(5000)])
    // A credential with under a minute left is as good as gone.
    expect(await loadIceServers(store, 4950)).toEqual([STUN])
    expect(await loadIceServers(store, 6000)).toEqual([STUN])
  })

  it('ignore a damaged entry', async () => {
    const store = new MemoryStore()
    await store.set(ICE_CACHE_KEY, utf8('{not json'))
    expect(await loadIceServers(store, 0)).toBeUndefined()
    await store.set(ICE_CACHE_KEY, utf8(JSON.stringify([{ urls: ['http://x'] }])))
    expect(await loadIceServers(store, 0)).toBeUndefined()
  })

  it('read the expiry from a TURN REST username', () => {
    expect(credentialExpiry(turn(1700000000))).toBe(1700000000)
    expect(credentialExpiry({ urls: ['turn:h'], username: 'alice', credential: 'x' })).toBe(0)
    expect(credentialExpiry(STUN)).toBe(0)
  })
})

describe('a peer started while the node is down', () => {
  it('uses the ICE servers the node handed it last time', async () => {
    const env = createNodeEnv({ logLevel: 'silent', store: new MemoryStore() })
    const keyPair = env.crypto.keyPairFromSeed(env.rng.bytes(32))
    const server = new SignalingServer({ crypto: env.crypto, log: env.log }, { ice: new IceConfig({ stun: ['stun:198.18.0.1:3478'] }) })
    const port = await server.start()
    const url = `ws://127.0.0.1:${port}/`
    const first = await startNetworkPeer({ env, keyPair, WebSocket, wrtc }, { url, peer: { services: [] } })
    try {
      const end = performance.now() + 5000
      while (first.iceSource() !== 'node' && performance.now() < end) await new Promise((r) => setTimeout(r, 10))
      expect(first.iceSource()).toBe('node')
    } finally {
      await first.close()
      await server.stop()
    }
    await new Promise((r) => setTimeout(r, 20)) // the store write is not awaited by the client
    const second = await startNetworkPeer({ env, keyPair, WebSocket, wrtc }, { url, peer: { services: [] } })
    try {
      expect(second.iceSource()).toBe('kept')
      expect(second.transport.iceServers).toEqual([STUN_LAB])
    } finally {
      await second.close()
    }
  })
})

const STUN_LAB = { urls: ['stun:198.18.0.1:3478'] }
