import { toHex } from '../core/bytes.js'
import { peerIdFromBytes, type PeerId } from '../core/id.js'
import { AssetService, type AssetDht, type AssetsInit } from '../services/assets/assets.js'
import { DHT_SERVICE, type DhtService } from './dht-service.js'
import type { PeerServiceFactory } from './session.js'

export { ASSETS_SERVICE, AssetService, type AssetsInit, type FetchOptions } from '../services/assets/assets.js'
export { AssetError, type AssetErrorCode } from '../services/assets/errors.js'
export { MAX_ASSET_BYTES, CHUNK_BYTES } from '../services/assets/manifest.js'

/** Providers read from one lookup. */
const MAX_PROVIDERS = 20

/** Provider records on the session's DHT: announced and looked up once the DHT is ready. */
function dhtOf(svc: DhtService, localId: PeerId): AssetDht {
  const dht = svc.dht
  return {
    provide: (key) => svc.whenReady(() => dht.isStopped || dht.records.provide(key)),
    findProviders: (key, onFound, done) =>
      svc.whenReady(() => {
        const seen = new Set<PeerId>([localId])
        for (const p of dht.store.providersOf(toHex(key), dht.env.clock.now())) {
          seen.add(p)
          onFound(p, undefined)
        }
        // A lookup of its own rather than records.findProviders: each provider comes with the peer
        // that named it, so the link to it is set up through that peer (an introduction).
        dht.lookup(key, () => done(), {
          findValue: true,
          onAnswer: (from, res) => {
            for (const bytes of res.providers) {
              const p = peerIdFromBytes(bytes)
              if (p === null || seen.has(p) || seen.size > MAX_PROVIDERS) continue
              seen.add(p)
              onFound(p, from)
            }
            return false
          },
        })
      }),
  }
}

/**
 * Content-addressed assets on the session's links: `peer.service<AssetService>(ASSETS_SERVICE)`.
 * List it after `dhtService()` to find and announce holders through the DHT; without
 * one, fetches ask only hinted peers. Assets persisted by earlier sessions are loaded
 * and announced at start.
 */
export function assetsService(init: AssetsInit = {}): PeerServiceFactory {
  return (ctx) => {
    const dhtSvc = ctx.service<DhtService>(DHT_SERVICE)
    const svc = new AssetService(
      { env: ctx.env, links: ctx.links, localId: ctx.localId, ...(dhtSvc === undefined ? {} : { dht: dhtOf(dhtSvc, ctx.localId) }) },
      init,
    )
    svc.load().catch((err: unknown) => ctx.env.log.warn('assets: load failed', { err: String(err) }))
    return svc
  }
}
