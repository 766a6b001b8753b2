import { describe, expect, it } from 'vitest'
import { toHex } from '../core/bytes.js'
import { peerIdFromPublicKey } from '../core/id.js'
import { SeededRng } from '../sim/rng.js'
import { NobleCrypto } from './browser/noble-crypto.js'
import { MemoryStore } from './memory-store.js'
import { NodeCrypto } from './node/node-crypto.js'

describe('crypto: node:crypto and @noble agree byte for byte', () => {
  const node = new NodeCrypto({ verifyCacheSize: 16 })
  const noble = new NobleCrypto()
  const rng = new SeededRng('crypto-test')

  it('derives the same keys and signatures from one seed', () => {
    for (let i = 0; i < 5; i++) {
      const seed = rng.bytes(32)
      const kn = node.keyPairFromSeed(seed)
      const kb = noble.keyPairFromSeed(seed)
      expect(toHex(kn.publicKey)).toBe(toHex(kb.publicKey))
      const msg = rng.bytes(200)
      const sig = kn.sign(msg)
      expect(toHex(sig)).toBe(toHex(kb.sign(msg))) // Ed25519 is deterministic
      expect(node.verify(kb.publicKey, msg, sig)).toBe(true)
      expect(noble.verify(kn.publicKey, msg, sig)).toBe(true)
      expect(peerIdFromPublicKey(node, kn.publicKey)).toBe(peerIdFromPublicKey(noble, kb.publicKey))
    }
  })

  it('rejects tampered messages, signatures and malformed keys', () => {
    const k = node.keyPairFromSeed(rng.bytes(32))
    const msg = rng.bytes(64)
    const sig = k.sign(msg)
    const badMsg = new Uint8Array(msg)
    badMsg[0]! ^= 1
    const badSig = new Uint8Array(sig)
    badSig[10]! ^= 1
    for (const c of [node, noble]) {
      expect(c.verify(k.publicKey, badMsg, sig)).toBe(false)
      expect(c.verify(k.publicKey, msg, badSig)).toBe(false)
      expect(c.verify(k.publicKey.subarray(1), msg, sig)).toBe(false)
      expect(c.verify(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false)
      expect(c.verify(k.publicKey, msg, sig.subarray(0, 63))).toBe(false)
    }
    // The cache answers the same as a fresh verification.
    expect(node.verify(k.publicKey, msg, sig)).toBe(true)
    expect(node.verify(k.publicKey, msg, sig)).toBe(true)
    expect(node.verify(k.publicKey, badMsg, sig)).toBe(false)
  })

  it('hashes like SHA-256', () => {
    const abc = new TextEncoder().encode('abc')
    const expected = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    expect(toHex(node.sha256(abc))).toBe(expected)
    expect(toHex(noble.sha256(abc))).toBe(expected)
    for (const c of [node, noble]) {
      const h = c.sha256Hasher()
      h.update(abc.subarray(0, 1))
      h.update(new Uint8Array(0))
      h.update(abc.subarray(1))
      expect(toHex(h.digest())).toBe(expected)
    }
  })
})

describe('MemoryStore', () => {
  it('stores copies and lists keys by prefix', async () => {
    const s = new MemoryStore()
    const v = new Uint8Array([1, 2])
    await s.set('player/a', v)
    await s.set('peers/b', new Uint8Array([3]))
    v[0] = 9
    expect(await s.get('player/a')).toEqual(new Uint8Array([1, 2]))
    expect(await s.keys('player/')).toEqual(['player/a'])
    await s.delete('player/a')
    expect(await s.get('player/a')).toBeUndefined()
  })
})

describe('FileStore', () => {
  it('persists values across instances and lists keys by prefix', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { FileStore } = await import('./node/file-store.js')
    const dir = await mkdtemp(join(tmpdir(), 'filestore-'))
    try {
      const a = new FileStore(dir)
      await a.set('player/ab', new Uint8Array([1, 2, 3]))
      await a.set('peers/x y/z', new Uint8Array([4]))
      const b = new FileStore(dir)
      expect(await b.get('player/ab')).toEqual(new Uint8Array([1, 2, 3]))
      expect(await b.keys('peers/')).toEqual(['peers/x y/z'])
      await b.delete('player/ab')
      expect(await a.get('player/ab')).toBeUndefined()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
