import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { findScenario } from './scenarios/index.js'
import { readRecords, ShardOutbox } from './shard-bus.js'
import { runVon, runVonSharded } from './von-world.js'

const vastInit = (peers: number, seconds: number, options: [string, string][] = []) =>
  findScenario('vast')!.von!({ peers, seconds, seed: '7', trace: undefined, options: new Map(options), progress: () => {} })

describe('a VON world split into shards', () => {
  it('measures what the unsplit world measures, and is deterministic', () => {
    const init = vastInit(40, 8, [['join-seconds', '4'], ['settle-seconds', '2']])
    const whole = runVon(init).metrics
    const split = runVonSharded(init, 2).metrics
    const again = runVonSharded(init, 2).metrics
    expect(again.traceHash).toBe(split.traceHash)
    expect(split.shards).toBe(2)
    expect(split.joinedPeers).toBe(40)
    expect(split.topologyConsistency as number).toBeGreaterThan(0.99)
    expect(Math.abs((split.topologyConsistency as number) - (whole.topologyConsistency as number))).toBeLessThan(0.005)
    const near = (a: unknown, b: unknown, tol: number) => expect(Math.abs((a as number) / (b as number) - 1)).toBeLessThan(tol)
    near(split.sentBytesPerPeerPerSecMean, whole.sentBytesPerPeerPerSecMean, 0.03)
    near(split.linksPerPeerMean, whole.linksPerPeerMean, 0.05)
    near(split.eventsRun, whole.eventsRun, 0.03)
    expect(split.graphConnected).toBe(true)
  })

  it('recovers from a mass failure that spans both shards', () => {
    const init = { ...vastInit(60, 6, [['join-seconds', '4'], ['settle-seconds', '2']]), failure: { atSeconds: 1, fraction: 0.3 } }
    const m = runVonSharded(init, 2).metrics
    expect(m.failedPeers).toBe(18)
    expect(m.recoveryMs).not.toBeNull()
    expect(m.recoveryMs as number).toBeLessThanOrEqual(5000)
    expect(m.graphConnected).toBe(true)
  })

  it('npm run sim -- --workers 2 runs the shards on threads, exactly as in turn on one thread', async () => {
    const out = mkdtempSync(join(tmpdir(), 'p2p-sim-'))
    try {
      const flags = ['--scenario', 'vast', '--peers', '30', '--seconds', '3', '--seed', '7', '--join-seconds', '3', '--settle-seconds', '1']
      await promisify(execFile)(process.execPath, ['scripts/sim.mjs', ...flags, '--workers', '2', '--out', out], { timeout: 120_000 })
      const threads = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>
      const inTurn = runVonSharded(vastInit(30, 3, [['join-seconds', '3'], ['settle-seconds', '1']]), 2).metrics
      expect(threads.shards).toBe(2)
      expect(threads.traceHash).toBe(inTurn.traceHash)
      expect(threads.topologyConsistency).toBe(inTurn.topologyConsistency)
      expect(String(threads.shardBusySeconds).split(' ')).toHaveLength(2)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  it('passes records between shards whole, and refuses one that would take effect inside the window', () => {
    const out = new ShardOutbox(0, 2)
    out.horizon = 100
    out.post(1, 1, 120.5, 42, new Uint8Array([1, 2, 3]))
    out.post(1, 3, 100, 7)
    expect(() => out.post(1, 1, 99.9, 1)).toThrow(/inside the window/)
    expect(() => out.post(0, 1, 200, 1)).toThrow(/itself/)
    const got: unknown[] = []
    readRecords(out.take(1), (kind, time, a, bytes) => got.push([kind, time, a, [...bytes]]))
    expect(got).toEqual([[1, 120.5, 42, [1, 2, 3]], [3, 100, 7, []]])
    expect(out.take(1).byteLength).toBe(0)
  })

  it('sends the bytes of a broadcast once per window and destination; its receivers share one view', () => {
    const out = new ShardOutbox(0, 2)
    out.horizon = 0
    const frame = new Uint8Array([9, 8, 7, 6])
    out.post(1, 1, 10, 1, frame)
    out.post(1, 1, 11, 2, frame)
    out.post(1, 3, 12, 3)
    out.post(1, 1, 13, 4, frame)
    out.post(1, 1, 14, 5, new Uint8Array([9, 8, 7, 6]))
    const buffer = out.take(1)
    const got: [number, number, number[]][] = []
    const views: Uint8Array[] = []
    readRecords(buffer, (_kind, time, a, bytes) => {
      got.push([time, a, [...bytes]])
      views.push(bytes)
    })
    expect(got).toEqual([[10, 1, [9, 8, 7, 6]], [11, 2, [9, 8, 7, 6]], [12, 3, []], [13, 4, [9, 8, 7, 6]], [14, 5, [9, 8, 7, 6]]])
    expect(views[1]).toBe(views[0])
    expect(views[4]).not.toBe(views[3])
    // Five 20-byte headers, the frame in full three times (the first, after the record without bytes, and a copy).
    expect(buffer.byteLength).toBe(5 * 20 + 3 * 4)
    // A new window starts afresh.
    out.post(1, 1, 20, 1, frame)
    expect(out.take(1).byteLength).toBe(24)
  })
})
