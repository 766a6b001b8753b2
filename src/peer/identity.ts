import type { Env, KeyPair } from '../core/env.js'

/** Store key of the identity seed. */
export const IDENTITY_KEY = 'peer/identity-seed'

/**
 * The peer's Ed25519 identity, kept in `Env.store` so a peer keeps its id (and
 * with it its place in the DHT and its player record) across sessions. A new
 * one is made and saved on first use or when the stored seed is unusable.
 */
export async function loadIdentity(env: Pick<Env, 'store' | 'rng' | 'crypto' | 'log'>, key = IDENTITY_KEY): Promise<KeyPair> {
  const stored = await env.store.get(key)
  if (stored !== undefined && stored.length === 32) return env.crypto.keyPairFromSeed(stored)
  if (stored !== undefined) env.log.warn('identity: stored seed is malformed; making a new identity', { bytes: stored.length })
  const seed = env.rng.bytes(32)
  await env.store.set(key, seed)
  return env.crypto.keyPairFromSeed(seed)
}
