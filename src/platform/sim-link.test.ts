import { describe } from 'vitest'
import { SimWorld } from '../sim/world.js'
import { linkSuite, type LinkHarness } from './link-suite.js'

/** The shared link suite on the simulator's transport, in virtual time. */
function simHarness(): Promise<LinkHarness> {
  const world = new SimWorld({ seed: 'link-suite' })
  let n = 0
  return Promise.resolve({
    addPeer: () => Promise.resolve(world.addPeer({ x: 10 * n++, y: 0, accessMs: 10 })),
    setSignaling: (up) => {
      world.signaling.up = up
      return Promise.resolve()
    },
    until: (cond, timeoutMs = 10_000) => {
      const end = world.sim.now + timeoutMs
      while (!cond()) {
        if (world.sim.now >= end) return Promise.reject(new Error(`condition not met within ${timeoutMs} virtual ms`))
        world.sim.runUntil(world.sim.now + 5)
      }
      return Promise.resolve()
    },
    close: () => {
      for (const p of world.peers) p.links.close()
      return Promise.resolve()
    },
  })
}

describe('link suite: simulated transport', () => {
  linkSuite(simHarness)
})
