import { describe, expect, it } from 'vitest'
import { VON_SCENARIOS } from './scenarios/von.js'
import type { ScenarioResult } from './scenario.js'
import type { AttackKind } from './adversaries.js'

const SEED = process.env.SEED ?? '3'
const PEERS = 80

/** vast with PEERS peers, 10 % of them hostile doing `attack` (none: the same world without them). */
function run(attack: AttackKind | 'all' | 'none', seconds = 8): ScenarioResult['metrics'] {
  const scenario = VON_SCENARIOS.find((s) => s.name === 'vast')!
  const options = new Map([['join-seconds', '5'], ...(attack === 'none' ? [] : [['adversaries', '0.1'], ['attack', attack]])] as [string, string][])
  return scenario.run({ seed: SEED, peers: PEERS, seconds, options, trace: undefined, progress: () => {} }).metrics
}

const num = (v: unknown): number => Number(v)

/**
 * Issue 23, part 3: hostile peers in the simulator, one run per kind. Honest
 * figures only (a hostile peer need not be seen); the defences must have acted.
 */
describe(`hostile peers in a small VAST world (SEED=${SEED})`, () => {
  const calm = run('none')

  it('without adversaries: no defence fires', () => {
    expect(num(calm.topologyConsistency)).toBeGreaterThanOrEqual(0.995)
    expect([calm.linksClosedForFlood, calm.linksClosedForViolation]).toEqual([0, 0])
  }, 60_000)

  it('plant: planted positions are caught when the node speaks, the planter is cut off', () => {
    const m = run('plant')
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.99)
    expect(num(m.unlawfulStates)).toBeGreaterThan(0)
    expect(num(m.closedViolationHostile)).toBeGreaterThan(0)
    expect(m.ignoringHonestPairs).toBe(0)
  }, 60_000)

  it('fabricate: invented ids cost the honest peers no neighbours', () => {
    const m = run('fabricate')
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.99)
    expect(num(m.neighboursPerPeerMean)).toBeLessThan(num(calm.neighboursPerPeerMean) + 30)
  }, 60_000)

  it('flood: flooders are closed and ignored, no honest link is', () => {
    const m = run('flood')
    expect(num(m.closedFloodHostile) + num(m.closedViolationHostile)).toBeGreaterThan(0)
    expect(num(m.ignoringHostilePairs)).toBeGreaterThan(0)
    expect([m.closedFloodHonest, m.closedViolationHonest, m.ignoringHonestPairs]).toEqual([0, 0, 0])
    // An honest peer that cut off the flooders it depended on finds the world again (82 % before, islands).
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.99)
  }, 60_000)

  it('track: the AOI of 1e7 is clamped and counted, the tracker cut off', () => {
    const m = run('track', 20)
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.99)
    expect(num(m.unlawfulStates)).toBeGreaterThan(0)
    expect(num(m.closedViolationHostile)).toBeGreaterThan(0)
  }, 60_000)

  it('teleport: jumps are clamped and counted', () => {
    const m = run('teleport')
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.99)
    expect(num(m.unlawfulStates)).toBeGreaterThan(0)
  }, 60_000)

  it('sybil-eclipse: the victim still sees most of its honest AOI neighbours', () => {
    const m = run('sybil-eclipse')
    expect(m.sybilsPerVictim).toBe(8)
    expect(num(m.victimAoiShare)).toBeGreaterThanOrEqual(0.8)
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.99)
  }, 60_000)

  it('silent: members that never answer cost the honest overlay a little', () => {
    const m = run('silent')
    // Short of 99 % in this small world (docs/results/adversaries.md): nothing detects a neighbour that keeps its link but never speaks.
    expect(num(m.topologyConsistency)).toBeGreaterThanOrEqual(0.95)
  }, 60_000)

  it('the same seed gives the same run', () => {
    const [a, b] = [run('all', 3), run('all', 3)]
    expect(a.traceHash).toBe(b.traceHash)
    expect(a.topologyConsistency).toBe(b.topologyConsistency)
  }, 60_000)
})
