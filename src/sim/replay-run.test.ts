import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { stepOf, type Track, type Tracks } from './replay.js'
import { findScenario } from './scenarios/index.js'
import type { ScenarioResult } from './scenario.js'
import { runVon, type VonRunInit } from './von-world.js'

const SEED = process.env.SEED ?? '7'
const PEERS = 30
const SECONDS = 10

const args = (options: Record<string, string>) => ({ peers: PEERS, seconds: SECONDS, seed: SEED, trace: undefined, options: new Map(Object.entries(options)), progress: () => {} })
const vast = (options: Record<string, string> = {}): ScenarioResult => findScenario('vast')!.run(args(options))
const vastInit = (options: Record<string, string> = {}): VonRunInit => findScenario('vast')!.von!(args(options))

describe('replaying tracks in a VON run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-replay-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'vast.json.gz')
  let recorded: ScenarioResult
  beforeAll(() => {
    recorded = vast({ 'write-tracks': file })
  })

  it(`reproduces the waypoint run it was written from, exactly (vast, ${PEERS} peers, ${SECONDS} s, SEED=${SEED})`, () => {
    const replayed = vast({ mobility: 'replay', tracks: file })
    const m = recorded.metrics
    const r = replayed.metrics
    expect(Math.abs((r.topologyConsistency as number) - (m.topologyConsistency as number)), `SEED=${SEED}`).toBeLessThan(0.001)
    // Same joins at the same times and the same positions: the same run, event for event.
    expect(r.traceHash, `SEED=${SEED}`).toBe(m.traceHash)
    expect(r.driftMean).toBe(m.driftMean)
    expect(r.sentBytesPerPeerPerSecMean).toBe(m.sentBytesPerPeerPerSecMean)
    // Writing the tracks did not change the run; `random` is the waypoint model.
    expect(vast().metrics.traceHash).toBe(m.traceHash)
    expect(vast({ mobility: 'random' }).metrics.traceHash).toBe(m.traceHash)
  })

  it(`lets replayed peers enter late and leave early: the rest forget them (SEED=${SEED})`, () => {
    const init = vastInit({ mobility: 'replay', tracks: file })
    const tracks = (init.mobility as { replay: Tracks }).replay
    const LEAVE_STEP = 130
    const ENTER_STEP = 110.5
    const leavers = new Set([20, 21, 22, 23, 24, 25])
    const late = new Set([10, 11, 12])
    const changed: Track[] = tracks.tracks.map((t, i) => {
      const at = (step: number): number => Math.max(0, Math.round(step) - stepOf(t, 1) + 1)
      // A leaver's last position is at step LEAVE_STEP - 1: it leaves at LEAVE_STEP (13 s, in the measured window).
      if (leavers.has(i)) return { start: t.start, xy: t.xy.slice(0, 2 * at(LEAVE_STEP)) }
      // A late peer enters between steps 110 and 111, where its track was at step 110.
      if (late.has(i)) return { start: ENTER_STEP, xy: t.xy.slice(2 * at(110)) }
      return t
    })
    const ids = new Map<number, PeerId>()
    /** How many table entries name a leaver, by sample time (ms). */
    const held = new Map<number, number>()
    const seenLate = new Set<number>()
    const r = runVon({
      ...init,
      mobility: { replay: { ...tracks, tracks: changed } },
      onSample: (now, peers) => {
        for (const p of peers) ids.set(p.index, p.von.localId)
        const gone = new Set([...leavers].map((i) => ids.get(i)))
        let n = 0
        for (const p of peers) for (const q of p.von.table.values()) if (gone.has(q.id)) n++
        held.set(now, n)
        if (now >= LEAVE_STEP * 100) for (const p of peers) expect(leavers.has(p.index), `peer ${p.index} at ${now}`).toBe(false)
        if (now < ENTER_STEP * 100) for (const p of peers) expect(late.has(p.index), `peer ${p.index} at ${now}`).toBe(false)
        for (const p of peers) if (late.has(p.index) && p.von.joined) seenLate.add(p.index)
      },
    })
    // Their BYE takes them out of their neighbours' tables at once. A few peers hear of
    // them later from others' stale lists and hold them while a link attempt to them
    // lasts, and pass them on meanwhile (VON's business: docs/mobility.md).
    const before = held.get(LEAVE_STEP * 100 - 200)!
    expect(before, `SEED=${SEED}`).toBeGreaterThan(10)
    expect(held.get(LEAVE_STEP * 100 + 200)!, `SEED=${SEED}`).toBeLessThan(before / 4)
    expect(held.get(LEAVE_STEP * 100 + 6000)!, `SEED=${SEED}`).toBeLessThanOrEqual(3)
    expect([...seenLate].sort(), `SEED=${SEED}`).toEqual([...late])
    const m = r.metrics
    expect(m.joinedPeers).toBe(PEERS)
    // Entering in the measured window costs a little (the join phase is otherwise outside it).
    expect(m.topologyConsistency as number, `SEED=${SEED}`).toBeGreaterThan(0.97)
    // Not graphConnected: 6 of 30 peers leaving this sparse world can split the overlay for
    // seconds, whether they leave or crash (SEED=6: 13-27 s), which is VON's, not the replay's.
    expect(r.overlay!.nodes).toHaveLength(PEERS - leavers.size)
  })

  it(`runs the keyboard model in a VON world (SEED=${SEED})`, () => {
    const m = vast({ mobility: 'keyboard' }).metrics
    expect(m.topologyConsistency as number, `SEED=${SEED}`).toBeGreaterThan(0.99)
    expect(m.traceHash).not.toBe(recorded.metrics.traceHash)
  })

  it('refuses a replay that disagrees with the flags, and an unknown model, before the run', () => {
    expect(() => vastInit({ mobility: 'replay', tracks: file, 'steps-per-sec': '20' })).toThrow(/steps per second 10, the run 20/)
    expect(() => findScenario('vast')!.von!({ ...args({ mobility: 'replay', tracks: file }), peers: 31 })).toThrow(/peers \(tracks\) 30, the run 31/)
    expect(() => vastInit({ mobility: 'replay' })).toThrow(/needs --tracks FILE/)
    expect(() => vastInit({ tracks: file })).toThrow(/goes with --mobility replay/)
    expect(() => vastInit({ mobility: 'walk' })).toThrow(/--mobility must be one of/)
    expect(() => vastInit({ 'write-tracks': join(dir, 'no', 'such', 't.json') })).toThrow(/--write-tracks .*: no directory/)
  })
})
