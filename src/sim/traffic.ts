import { frameHeader } from '../core/codec.js'
import { KadMsg } from '../kademlia/messages.js'
import { LinkMsg, PROTOCOL } from '../link/link-messages.js'
import { AssetMsg } from '../services/assets/asset-messages.js'
import { ChatMsg } from '../services/chat/chat.js'
import { PresenceMsg } from '../services/presence/profile.js'
import { VonMsg } from '../von/messages.js'

/**
 * What one peer sent, by message type: for each frame header (protocol, type)
 * the bytes of the frames (header and payload, as the link hands them to the
 * transport), the datagrams (data-channel messages) and the wire bytes (the
 * datagrams with the packet headers the network charges, see
 * SimNetworkInit.packetOverheadBytes). Kept per peer, so a run counts exactly
 * the peers it measures.
 */
export class TrafficCounter {
  /** key (proto * 256 + type, or -1 for what is not a frame) -> [bytes, datagrams, wire bytes]. */
  readonly byKey = new Map<number, Float64Array>()

  add(data: Uint8Array, wire: number): void {
    const h = frameHeader(data)
    const key = h === null ? -1 : h.proto * 256 + h.type
    let row = this.byKey.get(key)
    if (row === undefined) {
      row = new Float64Array(3)
      this.byKey.set(key, row)
    }
    row[0]! += data.length
    row[1]! += 1
    row[2]! += wire
  }
}

/** Totals by message type over many peers (or shards); plain data, so it crosses worker threads. */
export type TrafficTotals = Record<string, [bytes: number, datagrams: number, wire: number]>

export function addTraffic(into: TrafficTotals, counter: TrafficCounter | TrafficTotals): TrafficTotals {
  const entries: [string, ArrayLike<number>][] =
    counter instanceof TrafficCounter ? [...counter.byKey].map(([k, v]) => [messageName(k), v]) : Object.entries(counter)
  for (const [name, v] of entries) {
    const row = (into[name] ??= [0, 0, 0])
    row[0] += v[0]!
    row[1] += v[1]!
    row[2] += v[2]!
  }
  return into
}

const PROTOCOL_NAMES: Record<number, [string, Record<string, number>]> = {
  [PROTOCOL.LINK]: ['link', LinkMsg],
  [PROTOCOL.VON]: ['von', VonMsg],
  [PROTOCOL.KADEMLIA]: ['dht', KadMsg],
  [PROTOCOL.ASSETS]: ['assets', AssetMsg],
  [PROTOCOL.CHAT]: ['chat', ChatMsg],
  [PROTOCOL.PRESENCE]: ['presence', PresenceMsg],
  [PROTOCOL.TEST]: ['test', {}],
}

/** "von MOVE", "link C_UP", "dht FIND_NODE"; "proto 7 type 2" for what no table names. */
export function messageName(key: number): string {
  if (key < 0) return 'not a frame'
  const proto = Math.floor(key / 256)
  const type = key % 256
  const known = PROTOCOL_NAMES[proto]
  if (known === undefined) return `proto ${proto} type ${type}`
  const name = Object.entries(known[1]).find(([, v]) => v === type)?.[0]
  return `${known[0]} ${name ?? `type ${type}`}`
}

export interface TrafficRow {
  readonly type: string
  /** Per peer per second. */
  readonly bytes: number
  readonly datagrams: number
  readonly wire: number
  /** Share of all bytes sent. */
  readonly share: number
}

/** Rows per peer per second, heaviest first, then a total row. */
export function trafficRows(totals: TrafficTotals, peers: number, seconds: number): TrafficRow[] {
  const per = peers * seconds
  let all = 0
  for (const v of Object.values(totals)) all += v[0]
  const rows = Object.entries(totals)
    .map(([type, [b, d, w]]) => ({ type, bytes: per === 0 ? 0 : b / per, datagrams: per === 0 ? 0 : d / per, wire: per === 0 ? 0 : w / per, share: all === 0 ? 0 : b / all }))
    .sort((x, y) => y.bytes - x.bytes || (x.type < y.type ? -1 : 1))
  const sum = (pick: (r: TrafficRow) => number): number => rows.reduce((a, r) => a + pick(r), 0)
  rows.push({ type: 'total', bytes: sum((r) => r.bytes), datagrams: sum((r) => r.datagrams), wire: sum((r) => r.wire), share: all === 0 ? 0 : 1 })
  return rows
}

/** The rows as a fixed-width text table (the CLI prints it). */
export function formatTrafficRows(rows: readonly TrafficRow[]): string {
  const head = `${'message type'.padEnd(22)} ${'bytes/s'.padStart(10)} ${'share'.padStart(7)} ${'datagrams/s'.padStart(12)} ${'wire B/s'.padStart(10)}`
  const lines = rows.map(
    (r) =>
      `${r.type.padEnd(22)} ${r.bytes.toFixed(1).padStart(10)} ${(r.share * 100).toFixed(1).padStart(6)}% ${r.datagrams.toFixed(2).padStart(12)} ${r.wire.toFixed(1).padStart(10)}`,
  )
  return [head, ...lines].join('\n')
}
