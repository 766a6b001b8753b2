import type { KeyValueStore } from '../core/env.js'

/** A KeyValueStore in memory: the simulator's store, and Node's when no file is wanted. */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, Uint8Array>()

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.map.get(key)
    return v === undefined ? undefined : new Uint8Array(v)
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    this.map.set(key, new Uint8Array(value))
  }

  async delete(key: string): Promise<void> {
    this.map.delete(key)
  }

  async keys(prefix = ''): Promise<string[]> {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort()
  }
}
