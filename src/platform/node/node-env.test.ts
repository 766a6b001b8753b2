import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { toHex } from '../../core/bytes.js'
import { peerIdFromPublicKey } from '../../core/id.js'
import { JsonLog, parseLogLevel } from '../json-log.js'
import { createNodeEnv } from './node-env.js'
import { NodeRng } from './node-rng.js'

describe('Node Env', () => {
  it('has a monotonic clock and timers that fire and cancel', async () => {
    const env = createNodeEnv({ logLevel: 'silent' })
    const t0 = env.clock.now()
    const fired: string[] = []
    env.timers.setTimeout(() => fired.push('a'), 5)
    const cancelled = env.timers.setTimeout(() => fired.push('b'), 5)
    env.timers.clearTimeout(cancelled)
    env.timers.setTimeout(() => fired.push('negative delay runs too'), -10)
    await new Promise((r) => setTimeout(r, 30))
    expect(fired.sort()).toEqual(['a', 'negative delay runs too'])
    expect(env.clock.now() - t0).toBeGreaterThanOrEqual(25)
  })

  it('draws strong random bytes and uniform numbers', () => {
    const rng = new NodeRng()
    expect(rng.bytes(32)).toHaveLength(32)
    expect(toHex(rng.bytes(16))).not.toBe(toHex(rng.bytes(16)))
    let sum = 0
    for (let i = 0; i < 10_000; i++) {
      const x = rng.next()
      expect(x >= 0 && x < 1).toBe(true)
      sum += x
    }
    expect(sum / 10_000).toBeGreaterThan(0.47)
    expect(sum / 10_000).toBeLessThan(0.53)
    for (let i = 0; i < 1000; i++) expect(rng.int(7)).toBeLessThan(7)
  })

  it('derives identities with node:crypto and keeps a file store across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'node-env-'))
    try {
      const env = createNodeEnv({ dataDir: dir, logLevel: 'silent' })
      const key = env.crypto.keyPairFromSeed(env.rng.bytes(32))
      await env.store.set('identity/seed', key.seed)
      const again = createNodeEnv({ dataDir: dir, logLevel: 'silent' })
      const seed = await again.store.get('identity/seed')
      expect(seed).toEqual(key.seed)
      const restored = again.crypto.keyPairFromSeed(seed!)
      expect(peerIdFromPublicKey(again.crypto, restored.publicKey)).toBe(peerIdFromPublicKey(env.crypto, key.publicKey))
      const msg = new Uint8Array([1, 2, 3])
      expect(again.crypto.verify(key.publicKey, msg, restored.sign(msg))).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('logs JSON lines at or above its level, never raw bytes', () => {
    const lines: string[] = []
    const log = new JsonLog({ write: (l) => lines.push(l), time: () => 'T' }, { level: 'info', fields: { name: 'test' } })
    log.debug('hidden')
    log.info('joined', { world: 'w', key: new Uint8Array(32), err: new Error('boom') })
    log.error('failed')
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { time: 'T', level: 'info', msg: 'joined', name: 'test', world: 'w', key: '<32 bytes>', err: 'boom' },
      { time: 'T', level: 'error', msg: 'failed', name: 'test' },
    ])
    expect(parseLogLevel('warn')).toBe('warn')
    expect(parseLogLevel('loud')).toBeNull()
  })
})
