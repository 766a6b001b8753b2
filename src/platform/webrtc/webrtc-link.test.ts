import wrtc from '@roamhq/wrtc'
import SimplePeer from 'simple-peer'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { SignalingServer } from '../../../signaling/server.js'
import { SILENT_LOG, type Env, type KeyPair } from '../../core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../../core/id.js'
import { LinkManager } from '../../link/link-manager.js'
import type { Connection, ConnectionEvents, SignalData } from '../../link/transport.js'
import { linkSuite, type LinkHarness, type SuitePeer } from '../link-suite.js'
import { LoopbackSignaling } from '../loopback-signaling.js'
import { createNodeEnv } from '../node/node-env.js'
import { SignalingClient } from '../signaling/signaling-client.js'
import { WebRtcTransport } from './webrtc-transport.js'
import { guardWrtc } from './wrtc-guard.js'

const env = createNodeEnv({ logLevel: 'silent' })

function newKey(): KeyPair {
  return env.crypto.keyPairFromSeed(env.rng.bytes(32))
}

function transportFor(keyPair: KeyPair, e: Env = env, authTimeoutMs?: number): WebRtcTransport {
  return new WebRtcTransport({ keyPair, crypto: e.crypto, clock: e.clock, timers: e.timers, rng: e.rng, log: SILENT_LOG, wrtc }, authTimeoutMs === undefined ? {} : { authTimeoutMs })
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Peers on real WebRTC links, introduced by a real signaling node over WebSocket. */
async function realHarness(): Promise<LinkHarness> {
  let server = new SignalingServer({ crypto: env.crypto, log: SILENT_LOG })
  const port = await server.start()
  const url = `ws://127.0.0.1:${port}`
  const clients: SignalingClient[] = []
  const managers: LinkManager[] = []
  return {
    async addPeer(): Promise<SuitePeer> {
      const keyPair = newKey()
      let links: LinkManager | undefined = undefined
      let joined: () => void = () => {}
      const ready = new Promise<void>((resolve) => (joined = resolve))
      const client = new SignalingClient(
        { keyPair, crypto: env.crypto, timers: env.timers, rng: env.rng, log: SILENT_LOG, WebSocket },
        { url, world: 'suite', backoffMinMs: 50, onSignal: (from, init, data) => links?.receiveSignal(from, init, data, null), onHosts: () => joined() },
      )
      links = new LinkManager({ env, localId: client.id, transport: transportFor(keyPair), signaling: client }, { strict: true })
      clients.push(client)
      managers.push(links)
      client.start()
      await ready
      return { id: client.id, links }
    },
    async setSignaling(up) {
      if (!up) return server.stop()
      server = new SignalingServer({ crypto: env.crypto, log: SILENT_LOG }, { port })
      await server.start()
    },
    until,
    async close() {
      for (const m of managers) m.close()
      for (const c of clients) c.close()
      await server.stop()
    },
  }
}

describe('link suite: WebRTC (@roamhq/wrtc) through the signaling node', () => {
  linkSuite(realHarness)
})

interface Recorder extends ConnectionEvents {
  opened: boolean
  closed: string | undefined
  data: Uint8Array[]
  drains: number
  signals: SignalData[]
  onSignalTo?: (data: SignalData) => void
}

function recorder(): Recorder {
  const r: Recorder = {
    opened: false, closed: undefined, data: [], drains: 0, signals: [],
    onSignal: (d) => (r.onSignalTo === undefined ? r.signals.push(d) : r.onSignalTo(d)),
    onOpen: () => (r.opened = true),
    onData: (d) => r.data.push(new Uint8Array(d)),
    onDrain: () => r.drains++,
    onClose: (reason) => (r.closed = reason),
  }
  return r
}

/** Two connections whose signaling is piped by hand (no node, no relay). */
function directPair(ka = newKey(), kb = newKey(), authTimeoutMs?: number) {
  const ta = transportFor(ka, env, authTimeoutMs)
  const tb = transportFor(kb, env, authTimeoutMs)
  const ea = recorder()
  const eb = recorder()
  const a = ta.open(tb.localId, true, ea)
  const b = tb.open(ta.localId, false, eb)
  const pipe = () => {
    ea.onSignalTo = (d) => b.signal(d)
    eb.onSignalTo = (d) => a.signal(d)
    for (const d of ea.signals.splice(0)) b.signal(d)
    for (const d of eb.signals.splice(0)) a.signal(d)
  }
  return { a, b, ea, eb, pipe }
}

const open: Connection[] = []
const peers: SimplePeer.Instance[] = []
afterEach(() => {
  for (const c of open.splice(0)) c.close()
  for (const p of peers.splice(0)) p.destroy()
})

describe('WebRTC transport', () => {
  it('ignores malformed signaling data without throwing, then connects on the real offer', async () => {
    const p = directPair()
    open.push(p.a, p.b)
    const garbage: unknown[] = [
      {}, { type: 'offer' }, { type: 'offer', sdp: 5 }, { type: 'answer', sdp: 'v=0' }, { type: 'candidate', candidate: 'x' },
      { type: 'candidate', candidate: { candidate: 1 } }, { renegotiate: true }, { transceiverRequest: { kind: 'audio' } },
      { type: 'offer', sdp: 'x'.repeat(100_000) }, [1, 2, 3], { type: 'pranswer', sdp: 'v=0' },
    ]
    for (const g of garbage) expect(() => p.b.signal(g as SignalData)).not.toThrow()
    p.pipe()
    await until(() => p.ea.opened && p.eb.opened)
    for (const g of garbage) expect(() => p.a.signal(g as SignalData)).not.toThrow()
    p.a.send(new Uint8Array([1, 2, 3]))
    await until(() => p.eb.data.length === 1)
    expect(p.eb.data[0]).toEqual(new Uint8Array([1, 2, 3]))
    expect(p.ea.closed ?? p.eb.closed).toBeUndefined()
  })

  it('fails an attempt whose offer is not SDP with a reason, asynchronously', async () => {
    const p = directPair()
    open.push(p.a, p.b)
    p.b.signal({ type: 'offer', sdp: 'not an sdp' })
    expect(p.eb.closed).toBeUndefined()
    await until(() => p.eb.closed !== undefined)
    expect(p.eb.closed).toMatch(/^webrtc: ERR_SET_REMOTE_DESCRIPTION/)
  })

  // @roamhq/wrtc's own bufferedAmount counts only what overflows libwebrtc's ~2 MiB
  // SCTP send buffer; the transport adds what it sent since its last sample, so the
  // sender is paced here as in a browser.
  it('answers the local and remote descriptions from those set, not from native ones that ICE writes to', async () => {
    const { RTCPeerConnection: Guarded } = guardWrtc(wrtc) as { RTCPeerConnection: typeof RTCPeerConnection }
    expect(guardWrtc(wrtc)).toBe(guardWrtc(wrtc))
    const a = new Guarded({ iceServers: [] })
    const b = new Guarded({ iceServers: [] })
    try {
      a.createDataChannel('x')
      expect(a.localDescription).toBeNull()
      const offer = await a.createOffer()
      await a.setLocalDescription(offer)
      expect(a.localDescription).toEqual({ type: 'offer', sdp: offer.sdp })
      expect(a.localDescription?.sdp).toMatch(/a=fingerprint:sha-256 /)
      await b.setRemoteDescription(offer)
      expect(b.remoteDescription).toEqual({ type: 'offer', sdp: offer.sdp })
      const answer = await b.createAnswer()
      await b.setLocalDescription(answer)
      await a.setRemoteDescription(answer)
      expect(a.remoteDescription).toEqual({ type: 'answer', sdp: answer.sdp })
      expect(a.signalingState).toBe('stable')
    } finally {
      a.close()
      b.close()
    }
  })

  it('paces on bufferedAmount: drains fire and every byte arrives in order', async () => {
    const p = directPair()
    open.push(p.a, p.b)
    p.pipe()
    await until(() => p.ea.opened && p.eb.opened)
    const chunk = 16 * 1024
    const total = 512
    p.a.bufferedAmountLowThreshold = 64 * 1024
    let sent = 0
    let peak = 0
    const pump = () => {
      while (sent < total && p.a.bufferedAmount <= p.a.bufferedAmountLowThreshold) {
        const msg = new Uint8Array(chunk).fill(sent & 0xff)
        p.a.send(msg)
        sent++
        peak = Math.max(peak, p.a.bufferedAmount)
      }
    }
    p.ea.onDrain = () => {
      p.ea.drains++
      pump()
    }
    pump()
    await until(() => p.eb.data.length === total, 20_000)
    expect(p.eb.data.every((m, i) => m.length === chunk && m[0] === (i & 0xff))).toBe(true)
    expect(peak).toBeGreaterThan(64 * 1024)
    expect(p.ea.drains).toBeGreaterThan(0)
  })

  it('a local close gives no local event; the remote hears remote-closed', async () => {
    const p = directPair()
    p.pipe()
    await until(() => p.ea.opened && p.eb.opened)
    p.a.close()
    await until(() => p.eb.closed !== undefined)
    expect(p.eb.closed).toBe('remote-closed')
    expect(p.ea.closed).toBeUndefined()
  })
})

describe('WebRTC peer authentication', () => {
  it.each([['the spoofer answers', false], ['the spoofer dials', true]])('refuses a peer claiming an id it cannot prove (%s)', async (_name, spooferDials) => {
    const hub = new LoopbackSignaling(env.timers)
    const honestKey = newKey()
    const honestId = peerIdFromPublicKey(env.crypto, honestKey.publicKey)
    const victimId = peerIdFromPublicKey(env.crypto, newKey().publicKey)
    const make = (id: PeerId, key: KeyPair) => {
      const box: { m?: LinkManager } = {}
      const signaling = hub.attach(id, { receiveSignal: (f, i, d, v) => box.m?.receiveSignal(f, i, d, v) })
      box.m = new LinkManager({ env, localId: id, transport: transportFor(key), signaling }, { strict: true })
      return box.m
    }
    const honest = make(honestId, honestKey)
    // The spoofer registers under the victim's id but holds only its own key.
    const spoofer = make(victimId, newKey())
    const closed: string[] = []
    honest.register({ id: 250, onLinkClosed: (_p, reason) => closed.push(reason) })
    try {
      if (spooferDials) spoofer.connect(honestId)
      else honest.connect(victimId)
      await until(() => closed.length > 0)
      expect(closed[0]).toBe('auth-failed: remote key does not match the peer id dialled (spoofed id)')
      expect(honest.stats.opened).toBe(0)
    } finally {
      honest.close()
      spoofer.close()
    }
  })

  it('catches a relay that sits in the middle of DTLS and forwards the authentication', async () => {
    // The relay's two legs open one after the other: on a loaded machine (a CI run) that took over the default 5 s to authenticate.
    const p = directPair(newKey(), newKey(), 20_000)
    open.push(p.a, p.b)
    // The introducer answers A itself and dials B itself, then forwards every
    // data-channel message between them, auth messages included.
    const mk = (initiator: boolean) => {
      const peer = new SimplePeer({ initiator, wrtc: guardWrtc(wrtc) as SimplePeer.Options['wrtc'], config: { iceServers: [] }, channelConfig: { negotiated: true, id: 0 } })
      peer.on('error', () => {})
      peers.push(peer)
      return peer as SimplePeer.Instance & { _channel: RTCDataChannel }
    }
    const toA = mk(false)
    const toB = mk(true)
    p.ea.onSignalTo = (d) => toA.signal(d as unknown as SimplePeer.SignalData)
    toA.on('signal', (d) => p.a.signal(d as unknown as SignalData))
    p.eb.onSignalTo = (d) => toB.signal(d as unknown as SimplePeer.SignalData)
    toB.on('signal', (d) => p.b.signal(d as unknown as SignalData))
    for (const d of p.ea.signals.splice(0)) toA.signal(d as unknown as SimplePeer.SignalData)
    const forward = (from: RTCDataChannel, to: RTCDataChannel) => {
      const held: ArrayBuffer[] = []
      from.onmessage = (e: MessageEvent) => (to.readyState === 'open' ? to.send(e.data as ArrayBuffer) : held.push(e.data as ArrayBuffer))
      const flush = () => { while (held.length > 0 && to.readyState === 'open') to.send(held.shift()!) }
      timers.push(setInterval(flush, 5))
    }
    const timers: ReturnType<typeof setInterval>[] = []
    forward(toA._channel, toB._channel)
    forward(toB._channel, toA._channel)
    await until(() => p.ea.closed !== undefined && p.eb.closed !== undefined, 25_000).finally(() => timers.forEach(clearInterval))
    expect(p.ea.closed).toMatch(/^auth-failed: signature does not verify/)
    expect(p.eb.closed).toMatch(/^auth-failed: signature does not verify/)
    expect(p.ea.opened || p.eb.opened).toBe(false)
  })
})
