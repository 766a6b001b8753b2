/**
 * One peer of the world: links, the VON overlay and (issue 4) the DHT and the
 * player-state service, wired for a Transport and a bootstrap node. Protocol
 * code: everything ambient comes from Env.
 */
export { Peer, type BootstrapNode, type PeerComponents, type PeerInit, type PeerListener, type PeerState, type PeerStats } from './peer.js'
export type { DialledLinks, PeerService, PeerServiceContext, PeerServiceFactory } from './session.js'
export { DhtService, dhtService, DHT_SERVICE, type DhtServiceInit } from './dht-service.js'
export { PeerCache, type CachedPeer, type PeerCacheInit } from './peer-cache.js'
export { orderGateways, type GatewaySources } from './gateways.js'
export { loadIdentity, IDENTITY_KEY } from './identity.js'
export { loadPosition, savePosition, POSITION_KEY } from './saved-position.js'
export { DEFAULT_WORLD, clampToWorld, spreadPositions, type WorldArea } from './world-area.js'
