import { SILENT_LOG, type Crypto, type Env, type KeyValueStore, type Log } from '../core/env.js'
import { MemoryStore } from '../platform/memory-store.js'
import type { SimEvent } from './event-queue.js'
import type { SeededRng } from './rng.js'
import type { Simulator } from './simulator.js'

/** A simulated peer's Env; `kill()` stops its timers, as if its tab died. */
export interface SimPeerEnv extends Env {
  readonly rng: SeededRng
  readonly alive: boolean
  kill(): void
}

export interface SimEnvInit {
  rng: SeededRng
  crypto: Crypto
  store?: KeyValueStore
  log?: Log
}

export function createSimEnv(sim: Simulator, init: SimEnvInit): SimPeerEnv {
  let alive = true
  // One guard per peer instead of a closure per timer (timers are a large share of events).
  const runIfAlive = (fn: () => void): void => {
    if (alive) fn()
  }
  return {
    clock: sim.clock,
    timers: {
      setTimeout: (fn, delayMs) => sim.atWith(sim.now + Math.max(0, delayMs), runIfAlive, fn),
      clearTimeout: (handle) => sim.cancel(handle as SimEvent),
    },
    rng: init.rng,
    crypto: init.crypto,
    store: init.store ?? new MemoryStore(),
    log: init.log ?? SILENT_LOG,
    get alive() {
      return alive
    },
    kill() {
      alive = false
    },
  }
}
