import { decodeValue } from '../../core/codec.js'
import { peerIdFromPublicKey, type PeerId } from '../../core/id.js'
import type { SignalData } from '../../link/transport.js'
import { MAX_ICE_FIELD_CHARS, MAX_ICE_SERVERS, MAX_ICE_URLS, isIceUrl, type IceServer } from '../../platform/ice-servers.js'
import { MAX_SIGNALING_FRAME_BYTES, isWorldName, parseClientMessage, parseServerMessage } from '../../platform/signaling/signaling-protocol.js'
import { LinkAuth, type AuthStep, type Fingerprints } from '../../platform/webrtc/link-auth.js'
import { candidateType } from '../../platform/webrtc/ice-facts.js'
import { parseWebRtcSignal, sdpFingerprints } from '../../platform/webrtc/sdp.js'
import { isBytesOf, isHexId } from '../bounds.js'
import { FakeCrypto } from '../fake-crypto.js'
import { peerId, signalData } from '../seeds.js'
import { fuzzCase, need, textTarget, type FuzzTarget } from '../target.js'

const crypto = new FakeCrypto()

function needIce(servers: IceServer[]): void {
  need(servers.length <= MAX_ICE_SERVERS, `at most ${MAX_ICE_SERVERS} ICE servers`)
  for (const s of servers) {
    need(s.urls.length > 0 && s.urls.length <= MAX_ICE_URLS && s.urls.every(isIceUrl), 'ICE URLs valid and bounded')
    need((s.username === undefined) === (s.credential === undefined), 'TURN credentials come in pairs')
    need(s.username === undefined || (s.username.length <= MAX_ICE_FIELD_CHARS && s.credential!.length <= MAX_ICE_FIELD_CHARS), 'credentials bounded')
    need(!s.urls.some((u) => u.startsWith('turn')) || s.username !== undefined, 'a TURN URL has credentials')
  }
}

function needData(d: unknown): void {
  need(typeof d === 'object' && d !== null && !Array.isArray(d), 'signal data an object')
}

const ice = (): IceServer[] => [{ urls: ['stun:stun.example.org:3478'] }, { urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443'], username: 'u', credential: 'p' }]

export const platformTargets: FuzzTarget[] = [
  textTarget('signaling-client', 'src/platform/signaling/signaling-protocol.ts parseClientMessage', (g) => () => {
    const r = g.r
    return r.pick([
      { t: 'auth', key: r.bytes(32), sig: r.bytes(64) },
      { t: 'join', world: r.pick(['main', 'Tokyo 東京', 'a.b_c-d', 'x'.repeat(64)]) },
      { t: 'signal', to: peerId(r), initiator: r.chance(0.5), data: signalData(r) },
      { t: 'ticket', x: r.next() * 4000, y: r.chance(0.1) ? -1e7 : r.next() * 4000 },
    ])
  }, (text) => parseClientMessage(text), (m, text) => {
    need(text.length <= MAX_SIGNALING_FRAME_BYTES, 'a frame within the size limit')
    if (m.t === 'auth') need(isBytesOf(m.key, 32) && isBytesOf(m.sig, 64), 'a 32-byte key and a 64-byte signature')
    else if (m.t === 'join') need(isWorldName(m.world), 'a valid world name')
    else if (m.t === 'ticket') need(Number.isFinite(m.x) && Number.isFinite(m.y) && Math.abs(m.x) <= 1e7 && Math.abs(m.y) <= 1e7, 'a place on a map')
    else need(m.t === 'signal' && isHexId(m.to) && typeof m.initiator === 'boolean', 'a signal to a valid id')
    if (m.t === 'signal') needData(m.data)
  }),
  textTarget('signaling-server', 'src/platform/signaling/signaling-protocol.ts parseServerMessage (and parseIceServers)', (g) => () => {
    const r = g.r
    return r.pick([
      { t: 'challenge', v: 1, nonce: r.bytes(32) },
      { t: 'welcome', id: peerId(r), ...(r.chance(0.5) ? { ice: ice() } : {}), ...(r.chance(0.5) ? { tk: r.bytes(32), now: r.next() * 1e9 } : {}) },
      { t: 'ticket', x: r.next() * 4000, y: r.next() * 4000, at: r.next() * 1e9, sig: r.bytes(64) },
      { t: 'ice', ice: ice() },
      { t: 'peers', world: 'main', peers: Array.from({ length: r.chance(0.1) ? 256 : r.int(8) }, () => peerId(r)) },
      { t: 'signal', from: peerId(r), initiator: r.chance(0.5), data: signalData(r) },
      { t: 'error', code: 'rate-limited', message: 'slow down', ...(r.chance(0.5) ? { to: peerId(r) } : {}) },
    ])
  }, (text) => parseServerMessage(text), (m) => {
    switch (m.t) {
      case 'challenge':
        return need(isBytesOf(m.nonce, 32) && typeof m.v === 'number', 'a version and a 32-byte nonce')
      case 'welcome':
        need(isHexId(m.id), 'a valid id')
        need((m.tk === undefined) === (m.now === undefined) && (m.tk === undefined || (isBytesOf(m.tk, 32) && Number.isFinite(m.now) && m.now! >= 0)), 'a ticket key with the node\'s clock, or neither')
        return m.ice === undefined ? undefined : needIce(m.ice)
      case 'ticket':
        return need(isBytesOf(m.sig, 64) && Number.isFinite(m.at) && m.at >= 0 && Math.abs(m.x) <= 1e7 && Math.abs(m.y) <= 1e7, 'a place, a time and a 64-byte signature')
      case 'ice':
        return needIce(m.ice)
      case 'peers':
        return need(isWorldName(m.world) && m.peers.length <= 256 && m.peers.every(isHexId), 'a world and at most 256 valid ids')
      case 'signal':
        need(isHexId(m.from) && typeof m.initiator === 'boolean', 'a signal from a valid id')
        return needData(m.data)
      case 'error':
        return need(typeof m.code === 'string' && typeof m.message === 'string' && (m.to === undefined || isHexId(m.to)), 'an error code, a message, maybe an id')
    }
  }),
  {
    name: 'webrtc-signal',
    what: 'src/platform/webrtc/sdp.ts parseWebRtcSignal, sdpFingerprints; ice-facts.ts candidateType',
    create(gen) {
      const seed = gen.pool(() => signalData(gen.r))
      type In = { data: SignalData; initiator: boolean }
      type Out = { out: SignalData | null; fingerprints: string | null; kind: string | undefined }
      return fuzzCase<In, Out>({
        next: () => {
          // What the link layer hands on: an object (decodeSignalRelay and the signaling parsers refuse anything else).
          let data = gen.payload(seed)
          for (let i = 0; i < 3 && (typeof data !== 'object' || data === null || Array.isArray(data)); i++) data = gen.payload(seed)
          return { data: typeof data === 'object' && data !== null ? (data as SignalData) : {}, initiator: gen.r.chance(0.5) }
        },
        run: ({ data, initiator }) => {
          const out = parseWebRtcSignal(data, initiator)
          const c = out?.candidate as Record<string, unknown> | undefined
          return { out, fingerprints: out === null ? null : sdpFingerprints(out.sdp), kind: candidateType(c?.candidate) }
        },
        accepted: (res) => res.out !== null,
        check: ({ initiator }, { out, fingerprints, kind }) => {
          if (out === null) return
          need(fingerprints === null || fingerprints.length <= 16 * 1024, 'fingerprints bounded by the SDP')
          if (out.type === 'offer' || out.type === 'answer') {
            need((out.type === 'answer') === initiator, 'an initiator takes answers, a responder offers')
            need(Object.keys(out).length === 2 && typeof out.sdp === 'string' && out.sdp.length > 0 && out.sdp.length <= 16 * 1024, 'an SDP of 1..16384 characters, nothing else')
            return
          }
          need(out.type === 'candidate' && Object.keys(out).length === 2, 'an offer, an answer or a candidate, nothing else')
          const c = out.candidate as Record<string, unknown>
          need(typeof c.candidate === 'string' && c.candidate.length <= 1024, 'a candidate line of at most 1024 characters')
          need(c.sdpMLineIndex === null || (Number.isInteger(c.sdpMLineIndex) && (c.sdpMLineIndex as number) >= 0 && (c.sdpMLineIndex as number) < 64), 'an m-line index in 0..63 or null')
          need(c.sdpMid === null || (typeof c.sdpMid === 'string' && c.sdpMid.length <= 64), 'a mid of at most 64 characters or null')
          need(kind === undefined || ['host', 'srflx', 'prflx', 'relay'].includes(kind), 'a candidate type, or none')
        },
      })
    },
  },
  linkAuthTarget(),
]

/**
 * The first messages on a fresh data channel (link-auth.ts): a responder
 * fed the initiator's HELLO and then a mutated message (or a mutated one
 * first). It may open only on the initiator's genuine proof.
 */
function linkAuthTarget(): FuzzTarget {
  return {
    name: 'link-auth',
    what: 'src/platform/webrtc/link-auth.ts LinkAuth.receive',
    create(gen) {
      const [ik, rk] = [1, 2].map((i) => crypto.keyPairFromSeed(new Uint8Array(32).fill(20 + i)))
      const [iId, rId] = [ik!, rk!].map((k) => peerIdFromPublicKey(crypto, k.publicKey)) as [PeerId, PeerId]
      const fp: Fingerprints = { local: 'sha-256 aa', remote: 'sha-256 bb' }
      const mirrored: Fingerprints = { local: fp.remote, remote: fp.local }
      const nonces = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]
      const responder = () => new LinkAuth({ keyPair: rk!, crypto }, { localId: rId, remote: iId, initiator: false, nonce: nonces[1]! })
      const initiator = new LinkAuth({ keyPair: ik!, crypto }, { localId: iId, remote: rId, initiator: true, nonce: nonces[0]! })
      const [hello] = initiator.start()
      const step = responder().receive(hello!, () => fp)
      if (step.error !== undefined) throw new Error(`invariant: fuzz setup: ${step.error}`)
      const answer = initiator.receive(step.send[0]!, () => mirrored)
      const proof = answer.error === undefined ? answer.send[0]! : new Uint8Array(0)
      const seed = () => decodeValue(gen.r.chance(0.5) ? proof : hello!)
      return fuzzCase<{ afterHello: boolean; bytes: Uint8Array }, AuthStep>({
        next: () => ({ afterHello: gen.r.chance(0.7), bytes: gen.bytes(seed) }),
        run: ({ afterHello, bytes }) => {
          const auth = responder()
          if (afterHello) auth.receive(hello!, () => fp)
          return auth.receive(bytes, () => fp)
        },
        accepted: (s) => s.error === undefined,
        check: (input, s) => {
          if (s.error !== undefined) return need(typeof s.error === 'string', 'an error text')
          need(s.send.length <= 2 && s.send.every((b) => b.length <= 512), 'at most a HELLO and a proof to send')
          if (!s.open) return
          const v = decodeValue(input.bytes) as unknown[]
          need(Array.isArray(v) && isBytesOf(v[2], 32) && peerIdFromPublicKey(crypto, v[2]) === iId, 'opened only on a proof by the dialled peer')
        },
      })
    },
  }
}
