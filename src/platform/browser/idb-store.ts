import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval'
import type { KeyValueStore } from '../../core/env.js'

export interface IdbStoreInit {
  /** IndexedDB database name. @default 'p2p-world' */
  dbName?: string
  /** Object store name. @default 'kv' */
  storeName?: string
}

/** A KeyValueStore in IndexedDB through idb-keyval; byte values survive a reload. */
export class IdbStore implements KeyValueStore {
  private readonly store: UseStore

  constructor(init: IdbStoreInit = {}) {
    this.store = createStore(init.dbName ?? 'p2p-world', init.storeName ?? 'kv')
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v: unknown = await get(key, this.store)
    return v instanceof Uint8Array ? v : undefined
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await set(key, new Uint8Array(value), this.store)
  }

  async delete(key: string): Promise<void> {
    await del(key, this.store)
  }

  async keys(prefix = ''): Promise<string[]> {
    const all = await keys(this.store)
    return all.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)).sort()
  }
}
