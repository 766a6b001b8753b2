import { describe, expect, it } from 'vitest'
import { NodeCrypto } from '../../platform/node/node-crypto.js'
import { MemoryStore } from '../../platform/memory-store.js'
import { createSimEnv } from '../../sim/sim-env.js'
import { Simulator } from '../../sim/simulator.js'
import { FetchPacer } from './fetch-pacer.js'

const SEED = process.env.SEED ?? '5'

function pacer(bytesPerSecond: number, burstBytes: number): { sim: Simulator; p: FetchPacer } {
  const sim = new Simulator({ seed: SEED })
  const env = createSimEnv(sim, { rng: sim.rng('env'), crypto: new NodeCrypto(), store: new MemoryStore() })
  return { sim, p: new FetchPacer(env, { bytesPerSecond, burstBytes }) }
}

describe('FetchPacer', () => {
  it('lets a burst through, then holds takers to the rate, in the order they asked', () => {
    const { sim, p } = pacer(1000, 300)
    const log: [string, number][] = []
    // Two takers, each asking for 100 bytes again as soon as it got some (at once, or woken with it).
    const taker = (name: string): void => {
      while (sim.now < 2000 && p.take(100, () => granted(name))) log.push([name, sim.now])
    }
    const granted = (name: string): void => {
      log.push([name, sim.now])
      taker(name)
    }
    taker('a')
    taker('b')
    sim.runUntil(2000)
    expect(log.slice(0, 3)).toEqual([['a', 0], ['a', 0], ['a', 0]]) // the burst
    const after = log.slice(3)
    // 1000 B/s of 100-byte takes: one every 100 ms, alternating once both wait.
    expect(after.length).toBeGreaterThanOrEqual(19)
    expect(after.length).toBeLessThanOrEqual(20)
    for (let i = 1; i < after.length; i++) expect(after[i]![1] - after[i - 1]![1]).toBeLessThanOrEqual(101)
    expect(after.filter(([n]) => n === 'a').length - after.filter(([n]) => n === 'b').length).toBeLessThanOrEqual(1)
  })

  it('charges takes over the burst as the burst, so they still pass', () => {
    const { sim, p } = pacer(1000, 100)
    let woken = 0
    expect(p.take(500, () => woken++)).toBe(true)
    expect(p.take(500, () => woken++)).toBe(false)
    sim.runUntil(99)
    expect(woken).toBe(0)
    sim.runUntil(101)
    expect(woken).toBe(1) // granted: the budget was taken for it
    expect(p.take(50, () => woken++)).toBe(false)
    p.close()
    sim.runUntil(10_000)
    expect(woken).toBe(1)
  })
})
