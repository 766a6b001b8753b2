import type { Env, KeyValueStore, Log } from '../../core/env.js'
import type { LogLevel } from '../json-log.js'
import { BrowserRng } from './browser-rng.js'
import { ConsoleLog } from './console-log.js'
import { IdbStore } from './idb-store.js'
import { NobleCrypto } from './noble-crypto.js'

export interface BrowserEnvInit {
  /** A store to use instead of IndexedDB (e.g. a MemoryStore for a throwaway tab). @default IdbStore */
  store?: KeyValueStore
  /** IndexedDB database name of the default store. @default 'p2p-world' */
  dbName?: string
  /** @default ConsoleLog */
  log?: Log
  /** Level of the default console log. @default 'info' */
  logLevel?: LogLevel
}

/**
 * The Env of a browser tab: `performance.now()` clock, window timers, WebCrypto
 * randomness, @noble Ed25519 (WebCrypto's is async only), an IndexedDB store and
 * the devtools console.
 */
export function createBrowserEnv(init: BrowserEnvInit = {}): Env {
  return {
    clock: { now: () => performance.now() },
    timers: {
      setTimeout: (fn, delayMs) => window.setTimeout(fn, Math.max(0, delayMs)),
      clearTimeout: (handle) => window.clearTimeout(handle as number),
    },
    rng: new BrowserRng(),
    crypto: new NobleCrypto(),
    store: init.store ?? new IdbStore(init.dbName === undefined ? {} : { dbName: init.dbName }),
    log: init.log ?? new ConsoleLog({ level: init.logLevel ?? 'info' }),
  }
}
