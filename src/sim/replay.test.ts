import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { checkTracksFit, enterMs, leaveMs, parseTracks, ReplayMobility, stepOf, TrackRecorder, tracksFromJson, TracksError, type Tracks } from './replay.js'
import { readTracksFile, writeTracksFile } from './replay-file.js'
import type { Mobility, Point } from './mobility.js'

const ok = () => ({
  format: 'p2p-world-tracks',
  version: 1,
  width: 100,
  height: 50,
  stepsPerSec: 10,
  tracks: [
    { start: 0, positions: [[1, 2], [3, 4], [5, 6]] },
    { start: 2.5, positions: [[10, 20], [11, 20]] },
  ] as { start: unknown; positions: unknown }[],
})

/** The error `f` throws (a TracksError), for its code and message. */
function failure(f: () => unknown): TracksError {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(TracksError)
    return err as TracksError
  }
  throw new Error('expected a TracksError')
}

const parse = (raw: unknown): Tracks => tracksFromJson(raw, 'f.json')

describe('the track file format', () => {
  it('reads a good file: positions as pairs, starts in steps', () => {
    const t = parseTracks(JSON.stringify(ok()), 'f.json')
    expect(t).toMatchObject({ width: 100, height: 50, stepsPerSec: 10 })
    expect(t.tracks).toHaveLength(2)
    expect([...t.tracks[1]!.xy]).toEqual([10, 20, 11, 20])
  })

  it('refuses text that is not JSON, naming the file', () => {
    const e = failure(() => parseTracks('{"format": "p2p-world-tracks", ', 'f.json'))
    expect(e.code).toBe('MALFORMED')
    expect(e.message).toMatch(/^f\.json: not valid JSON/)
  })

  it('refuses a missing or wrong header field', () => {
    for (const [key, value, says] of [
      ['format', undefined, /"format" must be "p2p-world-tracks"/],
      ['format', 'gpx', /"format" must be/],
      ['version', 2, /"version" must be 1, got 2/],
      ['width', undefined, /"width" must be a number above 0/],
      ['height', '50', /"height" must be a number above 0, got "50"/],
      ['stepsPerSec', 0, /"stepsPerSec" must be a number above 0, got 0/],
      ['tracks', [], /"tracks" must be a non-empty array/],
      ['tracks', { a: 1 }, /"tracks" must be a non-empty array/],
    ] as const) {
      const raw: Record<string, unknown> = ok()
      if (value === undefined) delete raw[key]
      else raw[key] = value
      const e = failure(() => parse(raw))
      expect(e.code, key).toBe('MALFORMED')
      expect(e.message, key).toMatch(says)
    }
    expect(failure(() => parse([1, 2])).message).toMatch(/expected a JSON object/)
  })

  it('refuses a track of the wrong shape, naming the peer and step', () => {
    const cases: [unknown, RegExp][] = [
      ['x', /peer 1 \(tracks\[1\]\): expected an object/],
      [{ positions: [[1, 1]] }, /peer 1 \(tracks\[1\]\): "start" must be a number of steps >= 0/],
      [{ start: -1, positions: [[1, 1]] }, /"start" must be a number of steps >= 0, got -1/],
      [{ start: '3', positions: [[1, 1]] }, /"start" must be a number of steps >= 0, got "3"/],
      [{ start: 3, positions: [] }, /peer 1 \(tracks\[1\]\): "positions" must be a non-empty array/],
      [{ start: 3 }, /"positions" must be a non-empty array/],
      [{ start: 3, positions: [[1, 1], [2, '2']] }, /peer 1 \(tracks\[1\]\) at step 3 \(positions\[1\]\): expected \[x, y\]/],
      [{ start: 3, positions: [[1, 1], [2, 2, 2]] }, /at step 3 \(positions\[1\]\): expected \[x, y\] \(two numbers\), got \[2,2,2\]/],
      [{ start: 3.5, positions: [[1, 1], [2, 2], { x: 1, y: 1 }] }, /at step 5 \(positions\[2\]\): expected \[x, y\]/],
      [{ start: 3, positions: [[1, null]] }, /at step 3 \(positions\[0\]\)/],
    ]
    for (const [track, says] of cases) {
      const raw = ok()
      raw.tracks[1] = track as never
      const e = failure(() => parse(raw))
      expect(e.code).toBe('MALFORMED')
      expect(e.message).toMatch(says)
    }
  })

  it('refuses a position outside the world, naming the peer and step', () => {
    const raw = ok()
    raw.tracks[0]!.positions = [[1, 2], [3, 4], [100.5, 6]]
    const e = failure(() => parse(raw))
    expect(e.code).toBe('OUT_OF_WORLD')
    expect(e.message).toBe('f.json: peer 0 (tracks[0]) at step 2 (positions[2]): (100.5, 6) is outside the world [0, 100] x [0, 50]')
    raw.tracks[0]!.positions = [[1, -0.1]]
    expect(failure(() => parse(raw)).message).toMatch(/peer 0 \(tracks\[0\]\) at step 0 \(positions\[0\]\): \(1, -0\.1\) is outside/)
    // The edges are inside.
    raw.tracks[0]!.positions = [[0, 0], [100, 50]]
    expect(() => parse(raw)).not.toThrow()
  })

  it('refuses a file that disagrees with the flags: steps per second, world, peers', () => {
    const t = parse(ok())
    const e = failure(() => checkTracksFit(t, { stepsPerSec: 20 }, 'f.json'))
    expect(e.code).toBe('MISMATCH')
    expect(e.message).toBe("f.json has steps per second 10, the run 20 (--steps-per-sec): leave --steps-per-sec out to take the file's")
    expect(failure(() => checkTracksFit(t, { width: 120, height: 120 }, 'f.json')).message).toMatch(/world width 100, the run 120 \(--world\)/)
    expect(failure(() => checkTracksFit(t, { peers: 3 }, 'f.json')).message).toMatch(/peers \(tracks\) 2, the run 3 \(--peers\)/)
    expect(() => checkTracksFit(t, { stepsPerSec: 10, width: 100, height: 50, peers: 2 }, 'f.json')).not.toThrow()
  })

  it('places each position at its step: the entry at start, then every whole step from it on (the first at step 1)', () => {
    expect([0, 1, 2].map((j) => stepOf({ start: 0 }, j))).toEqual([0, 1, 2])
    expect([0, 1, 2].map((j) => stepOf({ start: 4 }, j))).toEqual([4, 4, 5])
    expect([0, 1, 2].map((j) => stepOf({ start: 4.25 }, j))).toEqual([4.25, 5, 6])
    const t = { start: 12.34, xy: new Float64Array(6) }
    expect(enterMs(t, 100)).toBe(1234)
    expect(leaveMs(t, 100)).toBe(1500)
  })

  it('replays a track against the clock, and records what another model does', () => {
    let now = 0
    const tracks = parse(ok())
    const replay = new ReplayMobility(tracks, 100, () => now)
    const p = replay.place(1)
    expect(p).toEqual({ x: 10, y: 20 })
    const seen: Point[] = []
    for (now = 300; now <= 500; now += 100) {
      replay.step(1, p)
      seen.push({ ...p })
    }
    expect(seen).toEqual([{ x: 11, y: 20 }, { x: 11, y: 20 }, { x: 11, y: 20 }])
    const walk: Mobility = { place: (i) => ({ x: i, y: 0 }), step: (_i, q) => void (q.x += 1) }
    const rec = new TrackRecorder(walk)
    const a = rec.place(0)
    rec.place(1)
    rec.step(0, a)
    rec.step(0, a)
    const out = rec.tracks({ width: 10, height: 10 }, 10, (i) => (i === 0 ? 250 : -1))
    expect(out.tracks).toHaveLength(1)
    expect(out.tracks[0]!.start).toBe(2.5)
    expect([...out.tracks[0]!.xy]).toEqual([0, 0, 1, 0, 2, 0])
  })
})

describe('track files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-tracks-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const tracks = parse(ok())

  it('write and read back, plain and gzipped, exactly', () => {
    const odd = { ...tracks, tracks: [{ start: 0.1 + 0.2, xy: Float64Array.of(Math.PI, Math.E) }] }
    for (const name of ['t.json', 't.json.gz']) {
      writeTracksFile(join(dir, name), odd)
      const back = readTracksFile(join(dir, name))
      expect(back.tracks[0]!.start).toBe(0.1 + 0.2)
      expect([...back.tracks[0]!.xy]).toEqual([Math.PI, Math.E])
    }
    const gz = readFileSync(join(dir, 't.json.gz'))
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b])
  })

  it('knows gzip by its magic bytes, whatever the name', () => {
    writeFileSync(join(dir, 'zipped.json'), gzipSync(JSON.stringify(ok())))
    expect(readTracksFile(join(dir, 'zipped.json')).tracks).toHaveLength(2)
  })

  it('refuses a .gz that is not gzip, broken gzip, and a missing file', () => {
    writeFileSync(join(dir, 'plain.json.gz'), JSON.stringify(ok()))
    expect(failure(() => readTracksFile(join(dir, 'plain.json.gz'))).message).toMatch(/named \.gz but not gzip/)
    const broken = gzipSync(JSON.stringify(ok())).subarray(0, 30)
    writeFileSync(join(dir, 'broken.gz'), broken)
    const e = failure(() => readTracksFile(join(dir, 'broken.gz')))
    expect(e.code).toBe('MALFORMED')
    expect(e.message).toMatch(/broken\.gz: bad gzip data/)
    writeFileSync(join(dir, 'junk.gz'), gzipSync('{"tracks": ['))
    expect(failure(() => readTracksFile(join(dir, 'junk.gz'))).message).toMatch(/junk\.gz: not valid JSON/)
    expect(failure(() => readTracksFile(join(dir, 'none.json'))).code).toBe('UNREADABLE')
  })
})
