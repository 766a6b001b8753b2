import wrtc from '@roamhq/wrtc'
import { describe, expect, it } from 'vitest'
import { SILENT_LOG, type KeyPair } from '../../core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../../core/id.js'
import { LinkManager } from '../../link/link-manager.js'
import { LoopbackSignaling } from '../loopback-signaling.js'
import { createNodeEnv } from '../node/node-env.js'
import { candidateType, IceFacts, selectedPath } from './ice-facts.js'
import { WebRtcTransport } from './webrtc-transport.js'

const env = createNodeEnv({ logLevel: 'silent' })

const cand = (id: string, type: string, extra: Record<string, unknown> = {}) => ({ id, type: 'local-candidate', candidateType: type, protocol: 'udp', ...extra })
const remote = (id: string, type: string) => ({ id, type: 'remote-candidate', candidateType: type, protocol: 'udp' })

describe('the selected candidate pair', () => {
  it('follows the transport to its selected pair (Chromium, libwebrtc) and names the most indirect end', () => {
    const report = [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: true, state: 'succeeded', currentRoundTripTime: 0.5 },
      { id: 'P2', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R2', nominated: true, state: 'succeeded', currentRoundTripTime: 0.031 },
      cand('L1', 'host'), remote('R1', 'host'), remote('R2', 'srflx'),
    ]
    expect(selectedPath(report)).toEqual({ kind: 'srflx', local: 'host', remote: 'srflx', protocol: 'udp', rttMs: 31 })
  })

  it('reads a pair marked selected (Firefox), a relay with TURN over TCP, and nothing before selection', () => {
    const relay = [
      { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', selected: true },
      cand('L', 'relay', { relayProtocol: 'tcp' }), remote('R', 'prflx'),
    ]
    expect(selectedPath(relay)).toEqual({ kind: 'relay', local: 'relay', remote: 'prflx', protocol: 'tcp', rttMs: undefined })
    expect(selectedPath([{ id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'in-progress' }, cand('L', 'host'), remote('R', 'host')])).toBeUndefined()
    expect(selectedPath([])).toBeUndefined()
  })

  it('parses candidate types', () => {
    expect(candidateType('candidate:1 1 udp 2122260223 198.19.1.2 50000 typ host generation 0')).toBe('host')
    expect(candidateType('candidate:2 1 udp 1686052607 198.18.0.11 50000 typ srflx raddr 198.19.1.2 rport 50000')).toBe('srflx')
    expect(candidateType('candidate:3 1 udp 41885439 198.18.0.1 49160 typ relay')).toBe('relay')
    expect(candidateType('candidate:3 1 udp 41885439 198.18.0.1 49160 typ bogus')).toBeUndefined()
    expect(candidateType(5)).toBeUndefined()
  })
})

describe('why an attempt did not open', () => {
  const facts = (servers = { stun: 1, turn: 0 }) => new IceFacts(servers)
  it('names the first missing step', () => {
    const f = facts()
    f.gathering = 'complete'
    expect(f.explain().code).toBe('no-candidates')
    f.local.add('host')
    expect(f.explain().code).toBe('no-answer')
    f.answered = true
    f.remote.add('host').add('srflx')
    f.local.add('srflx')
    f.iceState = 'failed'
    expect(f.explain()).toEqual({ code: 'ice-failed', detail: 'ICE failed, gathering complete; we offered host+srflx; they offered host+srflx; servers: STUN 1, TURN 0' })
  })

  it('blames refused TURN credentials when no relay candidate came', () => {
    const f = facts({ stun: 1, turn: 1 })
    f.local.add('host')
    f.answered = true
    f.addServerError(401)
    f.addServerError(401)
    expect(f.explain().code).toBe('turn-refused')
    expect(f.explain().detail).toMatch(/server errors 401$/)
    f.local.add('relay')
    expect(f.explain().code).toBe('ice-failed')
  })
})

describe('paths and failures of real WebRTC links', () => {
  const key = (): KeyPair => env.crypto.keyPairFromSeed(env.rng.bytes(32))
  function pair(opts: { dropCandidates: boolean }) {
    const hub = new LoopbackSignaling(env.timers)
    const make = () => {
      const k = key()
      const id = peerIdFromPublicKey(env.crypto, k.publicKey)
      const box: { m?: LinkManager } = {}
      const signaling = hub.attach(id, {
        receiveSignal: (f, i, d, v) => (opts.dropCandidates && d.type === 'candidate' ? undefined : box.m?.receiveSignal(f, i, d, v)),
      })
      const transport = new WebRtcTransport({ keyPair: k, crypto: env.crypto, clock: env.clock, timers: env.timers, rng: env.rng, log: SILENT_LOG, wrtc }, { pathRefreshMs: 200 })
      box.m = new LinkManager({ env, localId: id, transport, signaling }, { connectTimeoutMs: 2000 })
      return { id: id as PeerId, links: box.m }
    }
    return { a: make(), b: make() }
  }

  async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    const end = performance.now() + timeoutMs
    while (!cond()) {
      if (performance.now() > end) throw new Error('timed out')
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  it('an open link reports its path (host on one machine) and the RTT ICE measured', async () => {
    const { a, b } = pair({ dropCandidates: false })
    try {
      a.links.connect(b.id)
      await until(() => a.links.pathCounts().host === 1 && b.links.pathCounts().host === 1)
      const path = a.links.link(b.id)!.conn!.path!
      expect(path).toMatchObject({ kind: 'host', local: 'host', remote: 'host', protocol: 'udp' })
      expect(a.links.pathCounts()).toEqual({ host: 1, srflx: 0, prflx: 0, relay: 0, 'peer-relay': 0, unknown: 0 })
      expect(a.links.failures.total).toBe(0)
    } finally {
      a.links.close()
      b.links.close()
    }
  })

  it('an attempt whose candidates never arrive fails with ice-failed and the facts', async () => {
    const { a, b } = pair({ dropCandidates: true })
    try {
      a.links.connect(b.id)
      await until(() => a.links.failures.total > 0, 8000)
      const [f] = a.links.failures.since(0)
      expect(f).toMatchObject({ peer: b.id, reason: 'connect-timeout', route: 'signaling', cause: { code: 'ice-failed' } })
      expect(f!.cause!.detail).toMatch(/we offered host; they offered no candidates; servers: STUN 0, TURN 0/)
      expect(f!.triedMs).toBeGreaterThanOrEqual(2000)
    } finally {
      a.links.close()
      b.links.close()
    }
  })
})
