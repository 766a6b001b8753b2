import { describe, expect, it } from 'vitest'
import { toHex } from '../core/bytes.js'
import type { PeerId } from '../core/id.js'
import { createSimEnv } from '../sim/sim-env.js'
import { Simulator } from '../sim/simulator.js'
import { Lookup, type LookupResult } from './lookup.js'

const SEED = process.env.SEED ?? '2'

/**
 * Issue 23, finding 7: a peer answering FIND_NODE with invented ids close to
 * the target made lookups 4 times slower (each invented id costs a failed
 * introduction). One lookup over 40 honest peers and one liar, run with and
 * without distrust.
 */
function run(distrustAfter: number): LookupResult {
  const sim = new Simulator({ seed: SEED })
  const rng = sim.rng('ids')
  const id = (): Uint8Array => Uint8Array.from({ length: 32 }, () => rng.int(256))
  const env = createSimEnv(sim, { rng, crypto: undefined as never })
  const target = id()
  const honest = Array.from({ length: 40 }, id)
  // The liar stands near the target (it shares its first byte), so a lookup asks it.
  const liar = id()
  liar[0] = target[0]!
  const byHex = new Map<string, Uint8Array>(honest.map((b) => [toHex(b), b]))
  byHex.set(toHex(liar), liar)
  // Invented ids sharing the target's first two bytes: closer than any honest peer.
  const invented = Array.from({ length: 32 }, () => {
    const b = id()
    b[0] = target[0]!
    b[1] = target[1]!
    return b
  })
  const concat = (ids: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(32 * ids.length)
    ids.forEach((b, i) => out.set(b, 32 * i))
    return out
  }
  let result: LookupResult | undefined
  const lookup = new Lookup(
    env,
    { target, k: 8, alpha: 3, slowMs: 1000, maxCandidates: 64, self: id(), connectAhead: 0, distrustAfter },
    (peer: PeerId, _via, done) => {
      const known = byHex.get(peer)
      // An invented id: no such peer; the introduction fails after a few seconds.
      if (known === undefined) return void sim.after(3000, () => done(null))
      // The liar names only invented ids; an honest peer names eight honest ones at random, and the liar.
      const reply = known === liar ? invented : [...Array.from({ length: 8 }, () => honest[rng.int(honest.length)]!), liar]
      sim.after(60, () => done(concat(reply)))
    },
    (r) => (result = r),
  )
  lookup.start(honest.slice(0, 3).map((b) => ({ id: toHex(b) as PeerId, bytes: b })))
  sim.runWhile(() => result === undefined, 120_000)
  return result!
}

describe('lookup (kademlia)', () => {
  it('drops the unasked candidates of a peer whose referrals fail: a liar no longer slows lookups down', () => {
    const trusting = run(0)
    const wary = run(2)
    expect(wary.discounted).toBeGreaterThan(20)
    expect(trusting.discounted).toBe(0)
    // The trusting lookup waits out failed introductions to all 32; the wary one a couple.
    expect(wary.durationMs).toBeLessThan(trusting.durationMs / 2)
    expect(wary.closest.length).toBe(8)
  })
})
