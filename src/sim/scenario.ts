import type { EventCostRow } from './event-costs.js'
import type { TrafficRow } from './traffic.js'
import type { VonRunInit } from './von-world.js'

/** A time series for the report: [seconds of virtual time, value]. */
export interface Series {
  readonly name: string
  readonly unit: string
  readonly points: [number, number][]
}

/** A picture of the overlay for the report: positions, AOI circles and links. */
export interface OverlayPicture {
  readonly width: number
  readonly height: number
  readonly nodes: readonly { x: number; y: number; aoi: number }[]
  /** Pairs of indices into `nodes`. */
  readonly links: readonly (readonly [number, number])[]
}

/** Receives the JSON-lines trace (one object per call). */
export interface TraceSink {
  write(record: unknown): void
}

export interface ScenarioArgs {
  readonly peers: number
  readonly seconds: number
  readonly seed: string
  /** Set with --trace: where the scenario writes its JSON-lines trace. */
  readonly trace: TraceSink | undefined
  /** Every other --name value flag (world size, AOI radius, speed ...). */
  readonly options: ReadonlyMap<string, string>
  /** Reports progress in 0..1 (the runner draws a bar and samples memory). */
  progress(fraction: number): void
  /** Set with --event-costs: a wall clock (ms) to time each event by kind with. */
  readonly eventClock?: () => number
}

export type MetricValue = number | boolean | string | null

export interface ScenarioResult {
  readonly metrics: Record<string, MetricValue>
  readonly series: readonly Series[]
  readonly overlay?: OverlayPicture
  /** Plain-language lines for the report (what the crowding control did, ...). */
  readonly notes?: readonly string[]
  /** With --event-costs: wall time by kind of event, most expensive first. */
  readonly eventCosts?: readonly EventCostRow[]
  /** VON scenarios: what the measured peers sent by message type, per peer per second (traffic.ts). */
  readonly traffic?: readonly TrafficRow[]
}

export interface Scenario {
  readonly name: string
  readonly description: string
  readonly defaults: { readonly peers: number; readonly seconds: number }
  run(args: ScenarioArgs): ScenarioResult
  /** VON scenarios: the run `run` makes, so it can be split over workers (--workers). */
  readonly von?: (args: ScenarioArgs) => VonRunInit
  /** Plain-language lines from the merged metrics (split runs). */
  readonly notes?: (metrics: Record<string, MetricValue>, args: ScenarioArgs) => string[]
}

/** Reads a numeric option, with a default. Throws a clear error for a bad value. */
export function numberOption(options: ReadonlyMap<string, string>, name: string, dflt: number): number {
  const raw = options.get(name)
  if (raw === undefined) return dflt
  const v = Number(raw)
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got "${raw}"`)
  return v
}
