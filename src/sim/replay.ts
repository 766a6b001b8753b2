import type { Mobility, Point, WorldBox } from './mobility.js'

/**
 * Tracks: where each peer was at each step of a run, to replay in another
 * (`--mobility replay --tracks FILE`) or written from one (`--write-tracks
 * FILE`). The file format is in docs/mobility.md; replay-file.ts reads and
 * writes files, this module holds what the run needs and checks the content.
 */

export const TRACKS_FORMAT = 'p2p-world-tracks'
export const TRACKS_VERSION = 1
/** Limits on what a file may hold (the parser builds every position in memory). */
export const TRACKS_MAX_PEERS = 1_000_000
export const TRACKS_MAX_POSITIONS = 50_000_000

export interface Track {
  /** When the peer enters, in steps from the start of the run (a fraction: between two steps). */
  readonly start: number
  /**
   * x0, y0, x1, y1 ...: where it enters (0), then where it is at each whole
   * step from `start` on (1, 2 ...). It leaves at the whole step after its last.
   */
  readonly xy: Float64Array
}

export interface Tracks {
  readonly width: number
  readonly height: number
  readonly stepsPerSec: number
  /** Peer i of the run follows tracks[i]. */
  readonly tracks: readonly Track[]
}

export type TracksErrorCode = 'UNREADABLE' | 'MALFORMED' | 'OUT_OF_WORLD' | 'MISMATCH' | 'TOO_BIG'

/** A track file the run cannot use; the message names the file and, where it applies, the peer and step. */
export class TracksError extends Error {
  constructor(
    readonly code: TracksErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'TracksError'
  }
}

/** The first step a peer takes: the first whole step at or after its start (a run steps first at step 1, not 0). */
const firstStep = (t: Pick<Track, 'start'>): number => Math.max(1, Math.ceil(t.start))

/** The step at which positions[j] holds (j = 0: the entry, at `start` itself). */
export function stepOf(t: Pick<Track, 'start'>, j: number): number {
  return j === 0 ? t.start : firstStep(t) + j - 1
}

/** When the peer enters (ms), to the microsecond: a start written as joinMs / stepMs reads back as joinMs. */
export function enterMs(t: Track, stepMs: number): number {
  return Math.round(t.start * stepMs * 1000) / 1000
}

/** When it leaves (ms): the whole step after its last position. */
export function leaveMs(t: Track, stepMs: number): number {
  return stepOf(t, t.xy.length / 2) * stepMs
}

/** Parses and checks a track file's text; `source` names it in errors. */
export function parseTracks(text: string, source: string): Tracks {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new TracksError('MALFORMED', `${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`)
  }
  return tracksFromJson(raw, source)
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 40 ? `${s.slice(0, 40)}...` : s
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Checks a parsed track file (see docs/mobility.md) and builds its tracks. */
export function tracksFromJson(raw: unknown, source: string): Tracks {
  const bad = (what: string): TracksError => new TracksError('MALFORMED', `${source}: ${what}`)
  if (!isRecord(raw)) throw bad(`expected a JSON object, got ${show(raw)}`)
  if (raw.format !== TRACKS_FORMAT) throw bad(`"format" must be "${TRACKS_FORMAT}", got ${show(raw.format)}`)
  if (raw.version !== TRACKS_VERSION) throw bad(`"version" must be ${TRACKS_VERSION}, got ${show(raw.version)}`)
  const positive = (key: string): number => {
    const v = raw[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`"${key}" must be a number above 0, got ${show(v)}`)
    return v
  }
  const width = positive('width')
  const height = positive('height')
  const stepsPerSec = positive('stepsPerSec')
  const list = raw.tracks
  if (!Array.isArray(list) || list.length === 0) throw bad(`"tracks" must be a non-empty array, got ${show(list)}`)
  if (list.length > TRACKS_MAX_PEERS) throw new TracksError('TOO_BIG', `${source}: ${list.length} tracks, at most ${TRACKS_MAX_PEERS}`)
  let total = 0
  const tracks = list.map((t: unknown, i): Track => {
    const peer = `peer ${i} (tracks[${i}])`
    if (!isRecord(t)) throw bad(`${peer}: expected an object with "start" and "positions", got ${show(t)}`)
    const start = t.start
    if (typeof start !== 'number' || !Number.isFinite(start) || start < 0) throw bad(`${peer}: "start" must be a number of steps >= 0, got ${show(start)}`)
    const positions = t.positions
    if (!Array.isArray(positions) || positions.length === 0) throw bad(`${peer}: "positions" must be a non-empty array of [x, y], got ${show(positions)}`)
    total += positions.length
    if (total > TRACKS_MAX_POSITIONS) throw new TracksError('TOO_BIG', `${source}: more than ${TRACKS_MAX_POSITIONS} positions`)
    const xy = new Float64Array(positions.length * 2)
    positions.forEach((p: unknown, j) => {
      const at = `${peer} at step ${stepOf({ start }, j)} (positions[${j}])`
      if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && Number.isFinite(c))) throw bad(`${at}: expected [x, y] (two numbers), got ${show(p)}`)
      const [x, y] = p as [number, number]
      if (x < 0 || x > width || y < 0 || y > height) {
        throw new TracksError('OUT_OF_WORLD', `${source}: ${at}: (${x}, ${y}) is outside the world [0, ${width}] x [0, ${height}]`)
      }
      xy[2 * j] = x
      xy[2 * j + 1] = y
    })
    return { start, xy }
  })
  return { width, height, stepsPerSec, tracks }
}

/** What a run fixed by its flags; a file that disagrees is refused. */
export interface TracksFit {
  peers?: number
  width?: number
  height?: number
  stepsPerSec?: number
}

/** Throws a MISMATCH error when the run's `want` (flags given) disagrees with the file. */
export function checkTracksFit(t: Tracks, want: TracksFit, source: string): void {
  const mismatch = (what: string, file: number, run: number, flag: string): TracksError =>
    new TracksError('MISMATCH', `${source} has ${what} ${file}, the run ${run} (${flag}): leave ${flag} out to take the file's`)
  if (want.stepsPerSec !== undefined && want.stepsPerSec !== t.stepsPerSec) throw mismatch('steps per second', t.stepsPerSec, want.stepsPerSec, '--steps-per-sec')
  if (want.width !== undefined && want.width !== t.width) throw mismatch('world width', t.width, want.width, '--world')
  if (want.height !== undefined && want.height !== t.height) throw mismatch('world height', t.height, want.height, '--world')
  if (want.peers !== undefined && want.peers !== t.tracks.length) throw mismatch('peers (tracks)', t.tracks.length, want.peers, '--peers')
}

/** The file's text: one track a line, positions at full precision (a replay reproduces the run exactly). */
export function tracksToJson(t: Tracks): string[] {
  const head = `{"format":"${TRACKS_FORMAT}","version":${TRACKS_VERSION},"width":${t.width},"height":${t.height},"stepsPerSec":${t.stepsPerSec},"tracks":[\n`
  const lines = t.tracks.map((tr, i) => {
    const pairs: string[] = []
    for (let j = 0; j < tr.xy.length; j += 2) pairs.push(`[${tr.xy[j]},${tr.xy[j + 1]}]`)
    return `{"start":${tr.start},"positions":[${pairs.join(',')}]}${i < t.tracks.length - 1 ? ',' : ''}\n`
  })
  return [head, ...lines, ']}\n']
}

/** Plays tracks: peer i enters at tracks[i]'s first position and is where its track says at each step. */
export class ReplayMobility implements Mobility {
  constructor(
    private readonly tracks: Tracks,
    private readonly stepMs: number,
    /** The run's clock (ms): a step's index is its time over stepMs. */
    private readonly now: () => number,
  ) {}

  place(i: number): Point {
    const xy = this.tracks.tracks[i]!.xy
    return { x: xy[0]!, y: xy[1]! }
  }

  step(i: number, p: Point): void {
    const t = this.tracks.tracks[i]!
    const j = Math.round(this.now() / this.stepMs) - firstStep(t) + 1
    // Past the end the peer is leaving (its leave may come after the step at the same time).
    if (j < 1 || 2 * j >= t.xy.length) return
    p.x = t.xy[2 * j]!
    p.y = t.xy[2 * j + 1]!
  }
}

/** Records what another model does, for `--write-tracks`. */
export class TrackRecorder implements Mobility {
  private readonly xy: number[][] = []

  constructor(private readonly inner: Mobility) {}

  place(i: number): Point {
    const p = this.inner.place(i)
    this.xy[i] = [p.x, p.y]
    return p
  }

  step(i: number, p: Point): void {
    this.inner.step(i, p)
    this.xy[i]!.push(p.x, p.y)
  }

  /**
   * The tracks of the peers that entered, in index order: `enteredMs(i)` is
   * when peer i entered, -1 if it never did (it has no track: a replay then
   * numbers the later peers one lower).
   */
  tracks(world: WorldBox, stepsPerSec: number, enteredMs: (i: number) => number): Tracks {
    const stepMs = 1000 / stepsPerSec
    const tracks: Track[] = []
    this.xy.forEach((xy, i) => {
      const at = enteredMs(i)
      if (at >= 0) tracks.push({ start: at / stepMs, xy: Float64Array.from(xy) })
    })
    return { width: world.width, height: world.height, stepsPerSec, tracks }
  }
}
