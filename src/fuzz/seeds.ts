import { toHex } from '../core/bytes.js'
import type { KeyPair } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import { KadMsg, encodeRequest, encodeResponse, type Request } from '../kademlia/messages.js'
import { PLAYER_NS, encodeRecord, immutableRecord, signMutable, type DhtRecord } from '../kademlia/records.js'
import { NAT_CLASSES, encodeReach } from '../link/nat.js'
import type { SignalData } from '../link/transport.js'
import type { PlayerData } from '../services/player-state/player-data.js'
import { encodeAccept, encodeNodes, encodePrefixes, encodeQuery, encodeState, knownBytes, MAX_COORD, type NodeInfo } from '../von/messages.js'
import type { FuzzRng } from './fuzz-rng.js'

/**
 * Valid examples of every message kind, random within their bounds and often
 * right on them (the largest coordinate, 64 nodes, a 24-hop path), built with
 * the protocol's own encoders.
 */

export function peerId(r: FuzzRng): PeerId {
  return toHex(r.bytes(32)) as PeerId
}

function ids(r: FuzzRng, n: number): PeerId[] {
  return Array.from({ length: n }, () => peerId(r))
}

/** A coordinate in hundredths, as VON sends it; sometimes on the bound. */
function coord(r: FuzzRng): number {
  if (r.chance(0.1)) return r.pick([MAX_COORD, -MAX_COORD, 0, 0.01, -0.01])
  return Math.round((r.next() - 0.5) * 2 * 10 ** r.int(8) * 100) / 100
}

function radius(r: FuzzRng): number {
  return r.chance(0.1) ? r.pick([MAX_COORD, 0.01]) : r.range(1, 100_000) / 100
}

function seq(r: FuzzRng): number {
  return r.chance(0.1) ? r.pick([0, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER]) : r.int(100_000)
}

function count(r: FuzzRng, max: number): number {
  return r.chance(0.1) ? max : r.int(Math.min(max, 8) + 1)
}

export function nodeInfo(r: FuzzRng): NodeInfo {
  // Seq 0: a node list carries none (see encodeNode).
  return { id: peerId(r), x: coord(r), y: coord(r), aoi: radius(r), seq: 0, vx: coord(r), vy: coord(r) }
}

export function vonState(r: FuzzRng): unknown[] {
  const s = { x: coord(r), y: coord(r), aoi: radius(r), seq: seq(r), vx: coord(r), vy: coord(r) }
  const k = r.int(3)
  if (k === 0) return encodeState(s)
  if (k === 1) return encodeState(s, null)
  return encodeState(s, knownBytes(Array.from({ length: count(r, 256) }, () => r.int(0x10000))))
}

export function vonNodes(r: FuzzRng): unknown[] {
  return encodeNodes(Array.from({ length: count(r, 64) }, () => nodeInfo(r)))
}

export function vonPrefixes(r: FuzzRng): Uint8Array {
  return encodePrefixes(Array.from({ length: count(r, 256) }, () => r.u32()))
}

export function vonQuery(r: FuzzRng): unknown[] {
  const ticket = r.chance(0.5) ? { ticket: { x: coord(r), y: coord(r), t: r.chance(0.5) ? r.u32() : r.next() * 1e9, sig: r.bytes(64) } } : {}
  return encodeQuery({ qid: seq(r), joiner: peerId(r), x: coord(r), y: coord(r), aoi: radius(r), path: ids(r, count(r, 24)), ...ticket })
}

export function vonAccept(r: FuzzRng): unknown[] {
  const path = ids(r, count(r, 24))
  const hop = r.range(-1, path.length - 1)
  const nodes = Array.from({ length: count(r, 64) }, () => nodeInfo(r))
  return encodeAccept({ qid: seq(r), joiner: peerId(r), path, hop, final: r.chance(0.5), acceptor: nodeInfo(r), nodes })
}

export function record(r: FuzzRng, keyPair: KeyPair): DhtRecord {
  const value = r.bytes(r.chance(0.05) ? 16 * 1024 : r.int(200))
  if (r.chance(0.3)) return immutableRecord(value)
  const ns = r.chance(0.8) ? PLAYER_NS : 'n'.repeat(r.int(33))
  return signMutable(keyPair, ns, seq(r), value)
}

export function encodedRecord(r: FuzzRng, keyPair: KeyPair): unknown[] {
  return encodeRecord(record(r, keyPair))
}

export function kadRequest(r: FuzzRng, keyPair: KeyPair): { op: number; payload: Uint8Array } {
  const key = r.bytes(32)
  const reqs: Request[] = [
    { op: KadMsg.PING },
    { op: KadMsg.FIND_NODE, target: key },
    { op: KadMsg.FIND_VALUE, key },
    { op: KadMsg.ADD_PROVIDER, key },
    { op: KadMsg.KEEP, keep: r.chance(0.5) },
    { op: KadMsg.STORE, key, record: record(r, keyPair) },
  ]
  const req = r.pick(reqs)
  return { op: req.op, payload: encodeRequest(r.u32(), r.chance(0.5) ? keyPair.publicKey : null, req) }
}

export function kadResponse(r: FuzzRng, keyPair: KeyPair): Uint8Array {
  const contacts = r.bytes(32 * count(r, 32))
  const providers = Array.from({ length: count(r, 32) }, () => r.bytes(32))
  const rec = r.chance(0.4) ? record(r, keyPair) : null
  const res = { status: r.int(7), contacts, record: rec, providers, seq: r.chance(0.5) ? seq(r) : null }
  return encodeResponse(r.u32(), r.chance(0.5) ? keyPair.publicKey : null, res)
}

export function playerData(r: FuzzRng): PlayerData {
  const stats: Record<string, number> = {}
  for (let i = 0, n = count(r, 32); i < n; i++) stats[`stat${i}`] = r.chance(0.5) ? r.int(1000) : coord(r)
  return {
    name: r.pick(['player', 'Ada', 'x'.repeat(32), 'é東']),
    x: coord(r),
    y: coord(r),
    appearance: r.chance(0.5) ? r.bytes(32) : null,
    inventory: Array.from({ length: count(r, 64) }, (_, i) => ({ item: `item${i}`, count: r.chance(0.1) ? 1_000_000 : r.int(100) })),
    stats,
  }
}

const SDP = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0',
  'a=setup:actpass', 'a=mid:0', 'a=sctp-port:5000', '',
].join('\r\n')

/** What simple-peer signals, with the link layer's own keys (reach, home relays, relay capacity). */
export function signalData(r: FuzzRng): SignalData {
  const k = r.int(5)
  let data: SignalData
  if (k === 0) data = { type: 'offer', sdp: SDP }
  else if (k === 1) data = { type: 'answer', sdp: SDP }
  else if (k === 2) data = { renegotiate: true }
  else {
    const candidate = `candidate:842163049 1 udp 1677729535 203.0.113.${r.int(256)} ${r.range(1024, 65535)} typ ${r.pick(['host', 'srflx', 'prflx', 'relay'])} generation 0`
    data = { type: 'candidate', candidate: { candidate, sdpMLineIndex: r.int(2), sdpMid: r.pick(['0', '1', null]) } }
  }
  if (r.chance(0.4)) {
    data._n = encodeReach({ nat: r.pick([...NAT_CLASSES, 'unknown' as const]), turn: r.chance(0.3) })
    if (r.chance(0.5)) data._r = ids(r, r.range(1, 3))
    if (r.chance(0.5)) data._v = [128, r.int(128)]
  }
  return data
}

export function profile(r: FuzzRng): unknown[] {
  const name = r.pick(['player', 'Ada Lovelace', 'é東 ', 'x'.repeat(32), 'y'.repeat(128)])
  return [name, r.int(0x1000000), r.chance(0.5) ? r.bytes(32) : null, r.int(2)]
}

/** A link-protocol payload of each type (link-messages.ts), relay frames included. */
export function linkPayload(r: FuzzRng): { type: number; payload: unknown } {
  const id = (): Uint8Array => r.bytes(32)
  const cid = r.chance(0.1) ? 2 ** 32 - 1 : r.int(100)
  const k = r.int(13)
  if (k === 0) return { type: 1, payload: r.pick([null, 1]) }
  if (k === 1) return { type: 2, payload: [r.int(3), r.int(2), r.bytes(r.size(2048))] }
  if (k === 2) return { type: 3, payload: [id(), id(), r.int(2), signalData(r), ...(r.chance(0.3) ? [[id(), id()]] : [])] }
  if (k === 3) return { type: 4, payload: [r.u32(), r.int(2)] }
  if (k === 4) return { type: 5, payload: r.u32() }
  if (k === 5) return { type: 6, payload: r.int(2) }
  if (k === 6) return { type: 7, payload: [r.int(2), r.int(128), 128] }
  if (k === 7) return { type: 8, payload: [cid, id(), r.bytes(129)] }
  if (k === 8) return { type: 9, payload: [cid, id(), r.bytes(129)] }
  if (k === 9) return { type: 10, payload: [r.int(2), cid, r.int(3), r.bytes(r.size(1024))] }
  if (k === 10) return { type: 11, payload: [r.int(2), cid, r.bytes(r.size(1024))] }
  return { type: r.pick([12, 13]), payload: [r.int(2), cid, r.pick(['closed', 'tampered', 'relay-full', 'x'.repeat(40)])] }
}

/** A frame of any protocol, as [proto, type, payload]. */
export function anyFrame(r: FuzzRng, keyPair: KeyPair): [number, number, unknown] {
  switch (r.int(8)) {
    case 0: {
      const { type, payload } = linkPayload(r)
      return [0, type, payload]
    }
    case 1: {
      const k = r.int(6)
      const payload = [vonQuery, vonAccept, vonState, vonState, vonNodes, vonPrefixes][k]!(r)
      return [1, [1, 2, 3, 4, 5, 7][k]!, payload]
    }
    case 2: {
      const req = kadRequest(r, keyPair)
      return r.chance(0.7) ? [2, req.op, req.payload] : [2, KadMsg.RESPONSE, kadResponse(r, keyPair)]
    }
    case 3:
      return [4, r.range(1, 5), [r.u32(), r.bytes(r.pick([32, 100, 2048, 16384]))]]
    case 4:
      return [5, 1, r.pick(['hello', 'é東 😀', 'x'.repeat(280)])]
    case 5:
      return [6, 1, profile(r)]
    case 6:
      return [250, r.int(256), r.bytes(r.size(4096))]
    default:
      return [r.int(256), r.int(256), null]
  }
}
