import { isBytes, isUint } from '../core/codec.js'
import { idToBytes, peerIdFromBytes, type PeerId } from '../core/id.js'
import type { JoinTicket } from './join-tickets.js'

/** VON message types (protocol 1). Moves go HIGH, everything else MEDIUM. */
export const VonMsg = {
  /** [qid, joiner, x, y, aoi, path]: find the acceptor of (x, y), greedily. */
  QUERY: 1,
  /** [qid, joiner, path, hop, final, acceptor, nodes]: the answer, back along the path. */
  ACCEPT: 2,
  /** [x, y, aoi, seq, vx, vy, known]: I hold you as a neighbour; insert me (`known` as in MOVE). */
  HELLO: 3,
  /**
   * [x, y, aoi, seq, vx, vy] or [x, y, aoi, seq, vx, vy, known]: my position
   * (and AOI radius) and velocity (units per second) as I send this: predict
   * me from it (dead reckoning); I send again when that prediction would err
   * (see VonPeer.move). `known`, when my neighbour table changed and every few moves, is
   * what I hold: 2-byte id prefixes, so you tell me only of nodes I miss; null
   * when my table is a crowd (a digest would cost more than it saves): tell me
   * of what became relevant to me.
   */
  MOVE: 4,
  /** [nodes]: nodes that are relevant to you. */
  NODES: 5,
  /** null: I no longer hold you as a neighbour; 1: I am leaving the world. */
  BYE: 6,
  /**
   * bytes: 4-byte id prefixes of the nodes relevant to you (the periodic resync,
   * about a ninth of the NODES it replaces); answer with ASK for those you miss.
   */
  SYNC: 7,
  /** bytes: 4-byte id prefixes of nodes a SYNC or SKETCH named that I do not know; answered with NODES. */
  ASK: 8,
  /**
   * [prefix, x, y, ...] (whole units): nodes that may enclose you, out of your
   * range. Most such notices are refused (your own cell decides), so they go
   * as 11 bytes a node instead of about 52; ASK for those you take.
   */
  SKETCH: 9,
} as const

/** Positions travel as integers in hundredths of a unit: 5 bytes instead of 9. */
const SCALE = 100
/** Coordinates and radii outside this range are refused. */
export const MAX_COORD = 1e7
/** Most nodes one NODES or ACCEPT message carries. */
export const MAX_NODES = 64
/** Longest query path (also the longest introduction route). */
export const MAX_PATH = 24

/** What a peer knows of another: id, position, AOI radius, the newest move seq, and its velocity (units/s; 0 when unknown). */
export interface NodeInfo {
  readonly id: PeerId
  readonly x: number
  readonly y: number
  readonly aoi: number
  readonly seq: number
  readonly vx?: number
  readonly vy?: number
}

/** A peer's own state as its MOVE and HELLO carry it: where it is, its AOI, its move seq, and its velocity (units/s). */
export interface State {
  readonly x: number
  readonly y: number
  readonly aoi: number
  readonly seq: number
  readonly vx: number
  readonly vy: number
}

/** What readState writes. */
export interface StateOut {
  x: number
  y: number
  aoi: number
  seq: number
  vx: number
  vy: number
}

export interface Query {
  readonly qid: number
  readonly joiner: PeerId
  readonly x: number
  readonly y: number
  readonly aoi: number
  readonly path: readonly PeerId[]
  /** The node's ticket for the joiner's place (see join-tickets.ts); absent while the node cannot be reached. */
  readonly ticket?: JoinTicket
}

export interface Accept {
  readonly qid: number
  readonly joiner: PeerId
  readonly path: readonly PeerId[]
  /** Index in `path` of the peer this copy is for; -1: the joiner. */
  readonly hop: number
  /** False: a waypoint, not the acceptor (the path grew too long); query again from it. */
  readonly final: boolean
  readonly acceptor: NodeInfo
  readonly nodes: readonly NodeInfo[]
}

/** Most prefixes one SYNC or ASK carries. */
export const MAX_PREFIXES = 256
/** Most ids a MOVE's digest of what its sender holds names. */
export const MAX_KNOWN = 256

/** The 16-bit id prefix a MOVE's digest names nodes by (see knownBytes): the top of idPrefix's. */
export function knownPrefix(id: PeerId): number {
  return idPrefix(id) >>> 16
}

/** The digest of what a peer holds: each id's 16-bit prefix, two bytes each. */
export function knownBytes(prefixes: Iterable<number>): Uint8Array {
  const out: number[] = []
  for (const p of prefixes) if (out.length < 2 * MAX_KNOWN) out.push(p >>> 8, p & 0xff)
  return Uint8Array.from(out)
}

/**
 * A digest's prefixes into `out` (at least half the digest's length), sorted:
 * a crowd's tick asks about every pair of its 80 neighbours. Returns how many.
 */
export function sortDigest(digest: Uint8Array, out: Uint16Array): number {
  const n = digest.length >>> 1
  for (let i = 0; i < n; i++) out[i] = (digest[2 * i]! << 8) | digest[2 * i + 1]!
  out.subarray(0, n).sort()
  return n
}

/** Whether the first `count` of the sorted prefixes `known` (see sortDigest) hold `p`. */
export function knows(known: Uint16Array, count: number, p: number): boolean {
  let lo = 0
  let hi = count - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = known[mid]!
    if (v === p) return true
    if (v < p) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** The 32-bit id prefix SYNC and ASK name nodes by (a collision only delays a repair). */
export function idPrefix(id: PeerId): number {
  return parseInt(id.slice(0, 8), 16)
}

export function encodePrefixes(prefixes: readonly number[]): Uint8Array {
  const n = Math.min(prefixes.length, MAX_PREFIXES)
  const out = new Uint8Array(4 * n)
  const view = new DataView(out.buffer)
  for (let i = 0; i < n; i++) view.setUint32(4 * i, prefixes[i]!)
  return out
}

/** Decodes a prefix list; null unless it is bytes, a multiple of 4 long, within bounds. */
export function decodePrefixes(p: unknown): number[] | null {
  if (!isBytes(p, 4 * MAX_PREFIXES) || p.length % 4 !== 0) return null
  const view = new DataView(p.buffer, p.byteOffset, p.length)
  const out: number[] = []
  for (let i = 0; i < p.length; i += 4) out.push(view.getUint32(i))
  return out
}

/** A node's id prefix and where it is, to the unit (VonMsg.SKETCH). */
export interface Sketch {
  readonly prefix: number
  readonly x: number
  readonly y: number
}

export function encodeSketches(nodes: readonly { prefix: number; x: number; y: number }[]): number[] {
  const out: number[] = []
  for (const n of nodes.slice(0, MAX_NODES)) out.push(n.prefix, Math.round(n.x), Math.round(n.y))
  return out
}

/** Decodes a sketch list; null unless a flat list of (uint32, coordinate, coordinate) triples within bounds. */
export function decodeSketches(p: unknown): Sketch[] | null {
  if (!Array.isArray(p) || p.length % 3 !== 0 || p.length > 3 * MAX_NODES) return null
  const out: Sketch[] = []
  for (let i = 0; i < p.length; i += 3) {
    const [prefix, x, y] = [p[i], p[i + 1], p[i + 2]] as unknown[]
    if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix < 0 || prefix > 0xffffffff) return null
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isInteger(x) || !Number.isInteger(y) || Math.abs(x) > MAX_COORD || Math.abs(y) > MAX_COORD) return null
    out.push({ prefix, x, y })
  }
  return out
}

const q = (v: number): number => Math.round(v * SCALE)
const coord = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_COORD * SCALE ? v / SCALE : null
/** A velocity component (units/s, in hundredths like positions), within the coordinate range. */
const velocity = coord
const radius = (v: unknown): number | null => {
  const r = coord(v)
  return r !== null && r > 0 ? r : null
}

/** A state; with `known`, the digest of the sender's table (null: it keeps none, see VonMsg.MOVE). */
export function encodeState(s: State, known?: Uint8Array | null): unknown[] {
  const out: unknown[] = [q(s.x), q(s.y), q(s.aoi), s.seq, q(s.vx), q(s.vy)]
  if (known !== undefined) out.push(known)
  return out
}

export function decodeState(p: unknown): State | null {
  if (!Array.isArray(p) || p.length !== 6) return null
  const out = { x: 0, y: 0, aoi: 0, seq: 0, vx: 0, vy: 0 }
  return readState6(p, out) ? out : null
}

/**
 * A MOVE or HELLO read into `out`, no object made (moves are most of what a
 * peer receives), and the digest it carries: the bytes (a view into the frame,
 * shared by its receivers: copy what you keep), undefined when it carries
 * none, null (and `out` untouched) when it is malformed.
 */
export function readState(p: unknown, out: StateOut): Uint8Array | typeof NO_DIGEST | undefined | null {
  if (!Array.isArray(p)) return null
  if (p.length === 6) return readState6(p, out) ? undefined : null
  const known = p[6]
  if (p.length !== 7) return null
  if (known === null) return readState6(p, out) ? NO_DIGEST : null
  if (!isBytes(known, 2 * MAX_KNOWN) || known.length % 2 !== 0) return null
  return readState6(p, out) ? known : null
}

/** The six fields of a state into `out`, all or nothing. */
function readState6(p: unknown[], out: StateOut): boolean {
  const vx = velocity(p[4])
  const vy = velocity(p[5])
  if (vx === null || vy === null || !readAt(p, 0, out)) return false
  out.vx = vx
  out.vy = vy
  return true
}

/** What readState returns for a sender that keeps no digest (a crowd). */
export const NO_DIGEST = 'none'

/** [x, y, aoi, seq] from index `at` of `p`, checked and written to `out`. */
function readAt(p: unknown[], at: number, out: { x: number; y: number; aoi: number; seq: number }): boolean {
  const x = coord(p[at])
  const y = coord(p[at + 1])
  const aoi = radius(p[at + 2])
  const seq = p[at + 3]
  if (x === null || y === null || aoi === null || !isUint(seq)) return false
  out.x = x
  out.y = y
  out.aoi = aoi
  out.seq = seq
  return true
}

/**
 * [id, x, y, aoi, vx, vy]: what we believe of a node. No seq: a node's seq is
 * only ever its own word (its MOVE or HELLO); one a third party claimed could
 * make the receiver drop the node's real moves as older (issue 23, finding 1).
 */
export function encodeNode(n: NodeInfo): unknown[] {
  return [idToBytes(n.id), q(n.x), q(n.y), q(n.aoi), q(n.vx ?? 0), q(n.vy ?? 0)]
}

/** A node as encodeNode writes it, seq 0 (a node list is the largest message a peer decodes often). */
function decodeNode(p: unknown): NodeInfo | null {
  if (!Array.isArray(p) || p.length !== 6 || !isBytes(p[0], 32)) return null
  const id = peerIdFromBytes(p[0])
  const x = coord(p[1])
  const y = coord(p[2])
  const aoi = radius(p[3])
  const vx = velocity(p[4])
  const vy = velocity(p[5])
  if (id === null || x === null || y === null || aoi === null || vx === null || vy === null) return null
  return { id, x, y, aoi, seq: 0, vx, vy }
}

export function encodeNodes(nodes: readonly NodeInfo[]): unknown[] {
  return nodes.slice(0, MAX_NODES).map(encodeNode)
}

/** Decodes a node list; null if it is not a list or any entry is malformed. */
export function decodeNodes(p: unknown): NodeInfo[] | null {
  if (!Array.isArray(p) || p.length > MAX_NODES) return null
  const out: NodeInfo[] = []
  for (const raw of p) {
    const n = decodeNode(raw)
    if (n === null) return null
    out.push(n)
  }
  return out
}

function decodePath(p: unknown): PeerId[] | null {
  if (!Array.isArray(p) || p.length > MAX_PATH) return null
  const out: PeerId[] = []
  for (const raw of p) {
    const id = isBytes(raw, 32) ? peerIdFromBytes(raw) : null
    if (id === null) return null
    out.push(id)
  }
  return new Set(out).size === out.length ? out : null
}

export function encodeQuery(m: Query): unknown[] {
  const out: unknown[] = [m.qid, idToBytes(m.joiner), q(m.x), q(m.y), q(m.aoi), m.path.map(idToBytes)]
  if (m.ticket !== undefined) out.push([q(m.ticket.x), q(m.ticket.y), m.ticket.t, m.ticket.sig])
  return out
}

export function decodeQuery(p: unknown): Query | null {
  if (!Array.isArray(p) || (p.length !== 6 && p.length !== 7) || !isUint(p[0])) return null
  const joiner = isBytes(p[1], 32) ? peerIdFromBytes(p[1]) : null
  const x = coord(p[2])
  const y = coord(p[3])
  const aoi = radius(p[4])
  const path = decodePath(p[5])
  if (joiner === null || x === null || y === null || aoi === null || path === null) return null
  if (p.length === 6) return { qid: p[0], joiner, x, y, aoi, path }
  const ticket = decodeTicket(p[6])
  return ticket === null ? null : { qid: p[0], joiner, x, y, aoi, path, ticket }
}

function decodeTicket(p: unknown): JoinTicket | null {
  if (!Array.isArray(p) || p.length !== 4) return null
  const x = coord(p[0])
  const y = coord(p[1])
  const t = p[2]
  if (x === null || y === null || typeof t !== 'number' || !Number.isFinite(t) || !isBytes(p[3], 64) || p[3].length !== 64) return null
  return { x, y, t, sig: p[3] }
}

export function encodeAccept(m: Accept): unknown[] {
  return [m.qid, idToBytes(m.joiner), m.path.map(idToBytes), m.hop, m.final ? 1 : 0, encodeNode(m.acceptor), encodeNodes(m.nodes)]
}

export function decodeAccept(p: unknown): Accept | null {
  if (!Array.isArray(p) || p.length !== 7 || !isUint(p[0])) return null
  const joiner = isBytes(p[1], 32) ? peerIdFromBytes(p[1]) : null
  const path = decodePath(p[2])
  const hop = p[3]
  const acceptor = decodeNode(p[5])
  const nodes = decodeNodes(p[6])
  if (joiner === null || path === null || acceptor === null || nodes === null) return null
  if (typeof hop !== 'number' || !Number.isInteger(hop) || hop < -1 || hop >= path.length) return null
  if (p[4] !== 0 && p[4] !== 1) return null
  return { qid: p[0], joiner, path, hop, final: p[4] === 1, acceptor, nodes }
}
