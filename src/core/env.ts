/**
 * The environment protocol code runs in. Everything that makes a program
 * non-deterministic (time, timers, randomness, key generation, storage, logging)
 * comes through here, so the same protocol code runs in the browser, in Node and
 * in the discrete-event simulator, where one seed reproduces a whole run.
 */

/** Monotonic milliseconds. Never a wall clock: only differences are meaningful. */
export interface Clock {
  now(): number
}

/** Opaque handle returned by {@link Timers.setTimeout}. */
export type TimerHandle = unknown

export interface Timers {
  /** Calls `fn` once after `delayMs` (clamped to >= 0). */
  setTimeout(fn: () => void, delayMs: number): TimerHandle
  /** Cancels a pending timer; a no-op for a fired or cancelled one. */
  clearTimeout(handle: TimerHandle): void
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number
  /** `n` uniform bytes. In the browser and Node these are cryptographically strong. */
  bytes(n: number): Uint8Array
}

/** An incremental SHA-256: `update` with each piece in order, then `digest` once. */
export interface Sha256Hasher {
  update(data: Uint8Array): void
  digest(): Uint8Array
}

/** An Ed25519 key pair. `seed` is the 32-byte secret from which both keys derive. */
export interface KeyPair {
  readonly publicKey: Uint8Array
  readonly seed: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

/**
 * Synchronous crypto. Node and the simulator use `node:crypto`; the browser uses
 * @noble (WebCrypto's Ed25519 is async only). Both give byte-identical results.
 */
export interface Crypto {
  sha256(data: Uint8Array): Uint8Array
  /** SHA-256 fed piece by piece: a large input hashed as it arrives, not in one long call. */
  sha256Hasher(): Sha256Hasher
  keyPairFromSeed(seed: Uint8Array): KeyPair
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
}

/**
 * Persistent key-value storage (idb-keyval in the browser, a file or memory in
 * Node and the simulator). Values are bytes; callers encode them.
 */
export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>
  set(key: string, value: Uint8Array): Promise<void>
  delete(key: string): Promise<void>
  keys(prefix?: string): Promise<string[]>
}

export type LogFields = Record<string, unknown>

export interface Log {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

export interface Env {
  readonly clock: Clock
  readonly timers: Timers
  readonly rng: Rng
  readonly crypto: Crypto
  readonly store: KeyValueStore
  readonly log: Log
}

/** A log that discards everything; the default for simulated peers. */
export const SILENT_LOG: Log = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
})
