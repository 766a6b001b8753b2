import { SILENT_LOG, type Env, type KeyValueStore, type Log } from '../../core/env.js'
import { JsonLog, type LogLevel } from '../json-log.js'
import { MemoryStore } from '../memory-store.js'
import { FileStore } from './file-store.js'
import { NodeCrypto } from './node-crypto.js'
import { NodeRng } from './node-rng.js'

export interface NodeEnvInit {
  /** Keep the store in files under this directory; otherwise in memory. @default undefined */
  dataDir?: string
  /** A store to use instead (wins over `dataDir`). @default undefined */
  store?: KeyValueStore
  /** A log to use instead of JSON lines on stdout. @default undefined */
  log?: Log
  /** Level of the default JSON-lines log; 'silent' discards everything. @default 'info' */
  logLevel?: LogLevel
  /** Fields added to every log line. @default {} */
  logFields?: Record<string, unknown>
}

/**
 * The Env of a Node peer (anchors, bots, tests, benchmarks): `performance.now()`
 * clock, Node timers, `node:crypto` randomness and Ed25519, a file or memory
 * store, JSON-lines logs.
 */
export function createNodeEnv(init: NodeEnvInit = {}): Env {
  const level = init.logLevel ?? 'info'
  const log = init.log ?? (level === 'silent'
    ? SILENT_LOG
    : new JsonLog({ write: (line) => process.stdout.write(`${line}\n`) }, { level, fields: init.logFields ?? {} }))
  return {
    clock: { now: () => performance.now() },
    timers: {
      setTimeout: (fn, delayMs) => setTimeout(fn, Math.max(0, delayMs)),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    rng: new NodeRng(),
    crypto: new NodeCrypto(),
    store: init.store ?? (init.dataDir !== undefined ? new FileStore(init.dataDir) : new MemoryStore()),
    log,
  }
}
