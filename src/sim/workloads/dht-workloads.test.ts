import { describe, expect, it } from 'vitest'
import { SeededRng } from '../rng.js'
import type { ScenarioArgs } from '../scenario.js'
import { dhtChurnScenario } from '../scenarios/dht-churn.js'
import { dhtLookupScenario } from '../scenarios/dht-lookup.js'
import { KAD_INTERSESSION, KAD_SESSION, gamma, playerSessions, sampleWeibull, weibullMeanMs } from './dht-churn-model.js'

const SEED = process.env.SEED ?? '2'
const msg = `SEED=${SEED}`

function args(peers: number, seconds: number, options: Record<string, string> = {}): ScenarioArgs {
  return { peers, seconds, seed: SEED, trace: undefined, options: new Map(Object.entries(options)), progress: () => {} }
}

describe('churn model', () => {
  it('samples the KAD Weibull session times', () => {
    expect(gamma(5)).toBeCloseTo(24, 5)
    const rng = new SeededRng(SEED, 'weibull')
    for (const w of [KAD_SESSION, KAD_INTERSESSION]) {
      const xs = Array.from({ length: 20_000 }, () => sampleWeibull(rng, w)).sort((a, b) => a - b)
      const median = w.scaleMs * Math.pow(Math.LN2, 1 / w.shape)
      expect(xs[10_000]! / median, msg).toBeGreaterThan(0.95)
      expect(xs[10_000]! / median, msg).toBeLessThan(1.05)
    }
    // Starting in the steady state: the share online at time 0 is E[on] / (E[on] + E[off]).
    const share = weibullMeanMs(KAD_SESSION) / (weibullMeanMs(KAD_SESSION) + weibullMeanMs(KAD_INTERSESSION))
    let online = 0
    const n = 4000
    for (let i = 0; i < n; i++) if (playerSessions(rng, 3600_000, 30 * 86_400_000)[0]?.ongoing === true) online++
    expect(Math.abs(online / n - share), msg).toBeLessThan(0.03)
  })
})

describe('DHT scenarios (small smoke runs)', () => {
  it('dht-lookup reports the required metrics', () => {
    const r = dhtLookupScenario.run(args(80, 20, { lookups: '40', records: '10', 'settle-s': '20' }))
    for (const k of ['lookupAllClosestShare', 'lookupRoundsMedian', 'lookupLatencyMsMedian', 'getNewestShare', 'dhtBytesPerPeerPerSecMean']) {
      expect(typeof r.metrics[k], `${k} ${msg}`).toBe('number')
    }
    expect(r.metrics.lookupAllClosestShare, msg).toBeGreaterThanOrEqual(0.9)
    expect(r.metrics.getNewestShare, msg).toBe(1)
  })

  it('dht-churn reports the required metrics', () => {
    const r = dhtChurnScenario.run(args(80, 600, { 'lookup-every-s': '30', 'seed-span-s': '60' }))
    for (const k of ['lookupAllClosestShare', 'lookupRoundsMedian', 'lookupLatencyMsMedian', 'getNewestShare', 'dhtBytesPerPeerPerSecMean', 'onlineMean']) {
      expect(typeof r.metrics[k], `${k} ${msg}`).toBe('number')
    }
    // Players offline at the start get a prior state (minutes 2-3 here); the extra returns and others' reads follow.
    expect(r.metrics.seededPlayers, msg).toBeGreaterThan(40)
    expect(r.metrics.ownerReads, msg).toBeGreaterThan(15)
    expect(r.metrics.offlineReads, msg).toBeGreaterThan(15)
    expect(r.metrics.getNewestShare, msg).toBeGreaterThanOrEqual(0.95)
    expect(r.metrics.offlineReadNewestAckedShare, msg).toBeGreaterThanOrEqual(0.95)
    expect(r.series.length).toBeGreaterThan(2)
  }, 120_000)
})
