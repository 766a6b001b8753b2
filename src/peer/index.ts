/**
 * One peer of the world: links, the VON overlay and (issue 4) the DHT and the
 * player-state service, wired for a Transport and a bootstrap node. Protocol
 * code: everything ambient comes from Env.
 */
export { Peer, type BootstrapNode, type PeerComponents, type PeerInit, type PeerListener, type PeerState, type PeerStats } from './peer.js'
export type { DialledLinks, PeerService, PeerServiceContext, PeerServiceFactory } from './session.js'
export type { NeighbourEvents, NeighbourListener } from './neighbour-events.js'
export { PRESENCE_SERVICE, PresenceService, presenceService, type PresenceInit, type Profile } from './presence-service.js'
export { CHAT_SERVICE, ChatService, chatService, MAX_CHAT_CHARS, type ChatInit, type ChatMessage, type SayResult } from './chat-service.js'
export { ASSETS_SERVICE, AssetService, assetsService, AssetError, MAX_ASSET_BYTES, type AssetsInit, type FetchOptions } from './assets-service.js'
export { PLAYER_SERVICE, PlayerService, playerService, type PlayerServiceInit, type PlayerData, type ResumeResult } from './player-service.js'
export { DhtService, dhtService, DHT_SERVICE, type DhtServiceInit } from './dht-service.js'
export { PeerCache, type CachedPeer, type PeerCacheInit } from './peer-cache.js'
export { orderGateways, type GatewaySources } from './gateways.js'
export { loadIdentity, IDENTITY_KEY } from './identity.js'
export { loadPosition, savePosition, POSITION_KEY } from './saved-position.js'
export { DEFAULT_WORLD, clampToWorld, spreadPositions, type WorldArea } from './world-area.js'
