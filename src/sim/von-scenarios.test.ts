import { describe, expect, it } from 'vitest'
import { VON_SCENARIOS } from './scenarios/von.js'
import type { ScenarioResult } from './scenario.js'

/*
 * Small, fixed-seed versions of the issue-3 benchmarks (docs/BENCHMARKS.md has
 * the full-size runs). Each asserts the benchmark's threshold on its own
 * workload, scaled down so the whole file runs in well under a minute.
 */
function run(name: string, peers: number, seconds: number, options: Record<string, number> = {}): ScenarioResult['metrics'] {
  return runFull(name, peers, seconds, options).metrics
}

function runFull(name: string, peers: number, seconds: number, options: Record<string, number> = {}): ScenarioResult {
  const scenario = VON_SCENARIOS.find((s) => s.name === name)!
  return scenario.run({
    seed: '7',
    peers,
    seconds,
    options: new Map(Object.entries(options).map(([k, v]) => [k, String(v)])),
    trace: undefined,
    progress: () => {},
  })
}

describe('VON scenarios, small and seeded', () => {
  it("VAST's workload (100 peers): consistency at least 99.5 %; the bytes by message type add up to what the peers sent", () => {
    const r = runFull('vast', 100, 20, { 'join-seconds': 5 })
    const m = r.metrics
    expect(m.topologyConsistency).toBeGreaterThanOrEqual(0.995)
    expect(m.graphConnected).toBe(true)
    // Dead reckoning: 4,500 B/s before it.
    expect(m.sentBytesPerPeerPerSecMean).toBeLessThan(3000)
    const rows = r.traffic!
    const total = rows.find((t) => t.type === 'total')!
    expect(total.bytes).toBeCloseTo(m.sentBytesPerPeerPerSecMean as number, 6)
    expect(total.datagrams).toBeCloseTo(m.datagramsPerPeerPerSecMean as number, 6)
    expect(total.wire).toBeCloseTo(m.wireBytesPerPeerPerSecMean as number, 6)
    // Predicted moves are no longer most of it; every datagram pays at least the packet headers on the wire.
    expect(rows.find((t) => t.type === 'von MOVE')!.share).toBeLessThan(0.4)
    expect(total.wire).toBeGreaterThanOrEqual(total.bytes + 93 * total.datagrams - 1e-6)
  }, 300_000)

  it('dense (about 20 peers per AOI): consistency at least 99 %', () => {
    const m = run('dense', 100, 10)
    expect(m.aoiNeighboursTrueMean).toBeGreaterThan(12)
    expect(m.topologyConsistency).toBeGreaterThanOrEqual(0.99)
  }, 300_000)

  it('mass failure (30 % of 200 peers): back to 99 % within 5 s, graph connected', () => {
    const m = run('mass-failure', 200, 25)
    expect(m.failedPeers).toBe(60)
    expect(m.recoveryMs).not.toBeNull()
    expect(Number(m.recoveryMs)).toBeLessThanOrEqual(5000)
    expect(m.graphConnected).toBe(true)
  }, 300_000)

  it('flash crowd (120 peers into one point): under the link cap, AOI shrunk, consistency at least 95 %', () => {
    const m = run('flash-crowd', 120, 20)
    expect(m.linksPerPeerMax).toBeLessThanOrEqual(100)
    expect(m.peersWithShrunkAoi).toBeGreaterThan(0)
    expect(m.topologyConsistency).toBeGreaterThanOrEqual(0.95)
  }, 300_000)
})
