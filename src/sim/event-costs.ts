import { frameHeader } from '../core/codec.js'
import { LINK_PROTO, LinkMsg, PROTOCOL } from '../link/link-messages.js'
import { VonMsg } from '../von/messages.js'

/** Wall time that the events of one kind took. */
export interface EventCostRow {
  readonly kind: string
  readonly events: number
  readonly ms: number
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callback = (arg: any) => void

/**
 * Where a simulation's wall time goes, by kind of event (`npm run sim --
 * --event-costs`): message deliveries by protocol and message type, timers by
 * the name of their callback. A profiler attributes time to functions; this
 * attributes it to what happened in the simulated world, so the cost of a
 * message type includes everything its handler caused (sends, link setup,
 * garbage collection it triggered). Only events at or after `fromMs` count.
 */
export class EventCosts {
  private readonly rows = new Map<string, { events: number; ms: number }>()

  /** @param clock wall time in ms (performance.now); the simulator stays deterministic, only this table depends on it */
  constructor(
    readonly clock: () => number,
    private readonly fromMs: number,
  ) {}

  /** An event at virtual time `now` ran `fn(arg)` in `ms` of wall time. */
  add(now: number, fn: Callback, arg: unknown, ms: number): void {
    if (now < this.fromMs) return
    const kind = eventKind(fn, arg)
    const row = this.rows.get(kind)
    if (row === undefined) this.rows.set(kind, { events: 1, ms })
    else {
      row.events++
      row.ms += ms
    }
  }

  /** Every kind, most expensive first. */
  table(): EventCostRow[] {
    return sortRows([...this.rows].map(([kind, r]) => ({ kind, events: r.events, ms: r.ms })))
  }
}

/** Sums the tables of several shards. */
export function mergeEventCosts(tables: readonly (readonly EventCostRow[])[]): EventCostRow[] {
  const sum = new Map<string, { events: number; ms: number }>()
  for (const table of tables) {
    for (const r of table) {
      const s = sum.get(r.kind) ?? { events: 0, ms: 0 }
      s.events += r.events
      s.ms += r.ms
      sum.set(r.kind, s)
    }
  }
  return sortRows([...sum].map(([kind, r]) => ({ kind, events: r.events, ms: r.ms })))
}

/** A plain-text table: share of events, share of time and microseconds per event of each kind. */
export function formatEventCosts(rows: readonly EventCostRow[], limit = 20): string {
  const events = rows.reduce((a, r) => a + r.events, 0)
  const ms = rows.reduce((a, r) => a + r.ms, 0)
  const pct = (a: number, b: number): string => `${b > 0 ? ((100 * a) / b).toFixed(1) : '0.0'} %`
  const lines = [
    `${'event kind'.padEnd(28)} ${'events'.padStart(10)} ${'of events'.padStart(9)} ${'of time'.padStart(8)} ${'us each'.padStart(8)}`,
    ...rows
      .slice(0, limit)
      .map((r) => `${r.kind.padEnd(28)} ${String(r.events).padStart(10)} ${pct(r.events, events).padStart(9)} ${pct(r.ms, ms).padStart(8)} ${((1000 * r.ms) / r.events).toFixed(1).padStart(8)}`),
    `${'all'.padEnd(28)} ${String(events).padStart(10)} ${''.padStart(9)} ${`${(ms / 1000).toFixed(1)} s`.padStart(8)} ${(events > 0 ? (1000 * ms) / events : 0).toFixed(1).padStart(8)}`,
  ]
  return lines.join('\n')
}

const sortRows = (rows: EventCostRow[]): EventCostRow[] => rows.sort((a, b) => b.ms - a.ms || (a.kind < b.kind ? -1 : 1))

const reverse = (names: Record<string, number>): Map<number, string> => new Map(Object.entries(names).map(([k, v]) => [v, k]))
const PROTOCOL_NAMES = reverse(PROTOCOL)
const TYPE_NAMES = new Map([
  [LINK_PROTO, reverse(LinkMsg)],
  [PROTOCOL.VON, reverse(VonMsg)],
])

/** "deliver VON MOVE", "timer tick", or the callback's name. */
function eventKind(fn: Callback, arg: unknown): string {
  if (arg instanceof Uint8Array) {
    // The header only: decoding every delivery for its label cost more than the run.
    const h = frameHeader(arg)
    if (h === null) return 'deliver (not a frame)'
    return `deliver ${PROTOCOL_NAMES.get(h.proto) ?? `protocol ${h.proto}`} ${TYPE_NAMES.get(h.proto)?.get(h.type) ?? `type ${h.type}`}`
  }
  // A peer's timers run through one guard per peer (sim-env): name the callback it guards.
  if (typeof arg === 'function') return `timer ${arg.name || 'anonymous'}`
  return fn.name || 'anonymous'
}
