import { utf8 } from '../core/bytes.js'
import type { KeyValueStore } from '../core/env.js'
import { isTurnUrl, parseIceServers, type IceServer } from './ice-servers.js'

/** Where a peer keeps the ICE servers the node last handed it. */
export const ICE_CACHE_KEY = 'net/ice-servers'

/** Seconds of validity a TURN credential must have left to be worth using. */
const MIN_LEFT_SEC = 60

/**
 * The last ICE servers from the node, kept in the peer's store, so that after a
 * reload while the node is down, links introduced through other peers still
 * have STUN, and TURN as long as its credential (whose expiry is the first part
 * of its username) has not run out.
 */
export async function saveIceServers(store: KeyValueStore, servers: readonly IceServer[]): Promise<void> {
  await store.set(ICE_CACHE_KEY, utf8(JSON.stringify(servers)))
}

/** The kept servers still usable at `nowSec` (wall clock): TURN entries with an expired credential left out. */
export async function loadIceServers(store: KeyValueStore, nowSec: number): Promise<IceServer[] | undefined> {
  const bytes = await store.get(ICE_CACHE_KEY)
  if (bytes === undefined) return undefined
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
  return parseIceServers(json)?.filter((s) => !s.urls.some(isTurnUrl) || credentialExpiry(s) - MIN_LEFT_SEC > nowSec)
}

/** The expiry (Unix s) of a TURN REST credential (`expiry:user`); 0 when the username has none. */
export function credentialExpiry(s: IceServer): number {
  const head = s.username?.split(':')[0] ?? ''
  return /^\d{1,12}$/.test(head) ? Number(head) : 0
}
