import { describe, expect, it } from 'vitest'
import { MemoryStore } from './memory-store.js'
import { PrefixedStore } from './prefixed-store.js'

describe('PrefixedStore', () => {
  it('keeps two tabs apart in one store', async () => {
    const shared = new MemoryStore()
    const a = new PrefixedStore(shared, 'tab0/')
    const b = new PrefixedStore(shared, 'tab1/')
    await a.set('peer/identity-seed', new Uint8Array([1]))
    await b.set('peer/identity-seed', new Uint8Array([2]))
    expect(await a.get('peer/identity-seed')).toEqual(new Uint8Array([1]))
    expect(await b.keys('peer/')).toEqual(['peer/identity-seed'])
    await a.delete('peer/identity-seed')
    expect(await a.get('peer/identity-seed')).toBeUndefined()
    expect(await shared.keys()).toEqual(['tab1/peer/identity-seed'])
  })
})
