import type { KeyValueStore } from '../core/env.js'

/**
 * A view of a store under a key prefix: several peers (one per browser tab) share
 * one IndexedDB database without seeing each other's identity or cache.
 */
export class PrefixedStore implements KeyValueStore {
  constructor(
    private readonly inner: KeyValueStore,
    private readonly prefix: string,
  ) {}

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(this.prefix + key)
  }

  set(key: string, value: Uint8Array): Promise<void> {
    return this.inner.set(this.prefix + key, value)
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(this.prefix + key)
  }

  async keys(prefix = ''): Promise<string[]> {
    return (await this.inner.keys(this.prefix + prefix)).map((k) => k.slice(this.prefix.length))
  }
}
