import type { Server as HttpServer } from 'node:http'
import { MAX_SIGNALING_FRAME_BYTES } from '../src/platform/signaling/signaling-protocol.js'
import { IceConfig } from './ice.js'

export interface SignalingServerInit {
  /** Port to listen on; 0 picks a free one. Ignored with `server`. @default 0 */
  port?: number
  /** Address to bind. Ignored with `server`. @default '127.0.0.1' */
  host?: string
  /** Share an existing HTTP server (one port for the client and the node) instead of listening. */
  server?: HttpServer
  /** Largest frame accepted; larger ones close the socket with 1009. @default 65536 */
  maxFrameBytes?: number
  /**
   * Connections beyond this are closed with 1013, unless the newcomer's address
   * holds at least two fewer sockets than the address holding the most: then
   * that address's newest socket makes room (docs/signaling.md, "Hostile clients").
   * @default 10000
   */
  maxClients?: number
  /**
   * Sockets one address may hold (an IPv4 address, or an IPv6 /64); more are
   * refused at the upgrade with HTTP 429. Loopback counts like any address.
   * @default 16
   */
  maxSocketsPerAddress?: number
  /**
   * Authentications (each an Ed25519 verification) one address may attempt per
   * minute, in a burst of as many; beyond, the socket is refused (HTTP 429 at the
   * upgrade, or close 1013 on `auth`).
   * @default 60
   */
  authsPerMinutePerAddress?: number
  /** Addresses exempt from the per-address limits (the host's own anchors or bots). @default [] */
  exemptAddresses?: readonly string[]
  /**
   * Reverse proxies (their addresses) whose `X-Forwarded-For` names the client:
   * a connection from one is counted against the address the proxy forwarded for.
   * @default []
   */
  trustProxy?: readonly string[]
  /**
   * Page origins allowed to open a socket (`https://world.example.org`); others
   * are refused at the upgrade with HTTP 403. Empty: any origin. A request
   * without `Origin` (not from a browser) is always allowed: such a client can
   * send any origin it likes, so the list only keeps other sites' pages out.
   * @default []
   */
  allowedOrigins?: readonly string[]
  /** Live peers of the world returned on join. @default 8 */
  hostCacheSize?: number
  /** Share of the host cache drawn from the newer peers; the rest come from anchors and the oldest. @default 0.25 */
  hostCacheRecentShare?: number
  /** Hosts from one address in one host cache. @default 2 */
  hostCacheMaxPerAddress?: number
  /** Ping period; a socket that missed the previous pong is terminated. @default 30000 */
  heartbeatMs?: number
  /** A socket that has not proved its id by then is closed. @default 10000 */
  authTimeoutMs?: number
  /**
   * An authenticated socket that sent no message this long is challenged again;
   * one that does not answer within `authTimeoutMs` is closed with 4001. 0: never.
   * @default 120000
   */
  idleTimeoutMs?: number
  /**
   * The world's speed limit (units/s) the node holds join tickets to: an id
   * gets a ticket for a place only if it could have walked there from its last
   * (src/von/join-tickets.ts). 0: the node issues no tickets (and peers take
   * any joiner). @default 50 (the game's walking speed, src/ui/movement.ts)
   */
  ticketSpeed?: number
  /** Sustained messages per second per connection. @default 50 */
  messagesPerSec?: number
  /** @default 200 */
  burstMessages?: number
  /** Sustained bytes per second per connection. @default 262144 */
  bytesPerSec?: number
  /** @default 1048576 */
  burstBytes?: number
  /** Malformed frames tolerated per connection before it is closed. @default 10 */
  maxBadFrames?: number
  /** Rate-limited frames tolerated per connection before it is closed. @default 100 */
  maxDropped?: number
  /** A relay to a peer with more than this queued on its socket fails with 'peer-busy'. @default 1048576 */
  maxBufferedBytes?: number
  /**
   * STUN and TURN servers handed to every peer in its welcome, TURN with
   * ephemeral credentials renewed at half their lifetime. None by default:
   * peers on one host or LAN need none.
   * @default new IceConfig()
   */
  ice?: IceConfig
}

export type SignalingServerOptions = Required<Omit<SignalingServerInit, 'server'>>

export function resolveOptions(init: SignalingServerInit): SignalingServerOptions {
  return {
    port: init.port ?? 0,
    host: init.host ?? '127.0.0.1',
    maxFrameBytes: init.maxFrameBytes ?? MAX_SIGNALING_FRAME_BYTES,
    maxClients: init.maxClients ?? 10_000,
    maxSocketsPerAddress: init.maxSocketsPerAddress ?? 16,
    authsPerMinutePerAddress: init.authsPerMinutePerAddress ?? 60,
    exemptAddresses: init.exemptAddresses ?? [],
    trustProxy: init.trustProxy ?? [],
    allowedOrigins: init.allowedOrigins ?? [],
    hostCacheSize: init.hostCacheSize ?? 8,
    hostCacheRecentShare: init.hostCacheRecentShare ?? 0.25,
    hostCacheMaxPerAddress: init.hostCacheMaxPerAddress ?? 2,
    heartbeatMs: init.heartbeatMs ?? 30_000,
    authTimeoutMs: init.authTimeoutMs ?? 10_000,
    idleTimeoutMs: init.idleTimeoutMs ?? 120_000,
    ticketSpeed: init.ticketSpeed ?? 50,
    messagesPerSec: init.messagesPerSec ?? 50,
    burstMessages: init.burstMessages ?? 200,
    bytesPerSec: init.bytesPerSec ?? 256 * 1024,
    burstBytes: init.burstBytes ?? 1024 * 1024,
    maxBadFrames: init.maxBadFrames ?? 10,
    maxDropped: init.maxDropped ?? 100,
    maxBufferedBytes: init.maxBufferedBytes ?? 1024 * 1024,
    ice: init.ice ?? new IceConfig(),
  }
}

/** The limits against hostile clients, for the node's `listening` log line. */
export function describeLimits(o: SignalingServerOptions): Record<string, unknown> {
  return {
    perAddress: o.maxSocketsPerAddress, authsPerMinute: o.authsPerMinutePerAddress, idleTimeoutMs: o.idleTimeoutMs,
    exempt: o.exemptAddresses, trustProxy: o.trustProxy, origins: o.allowedOrigins.length === 0 ? 'any' : o.allowedOrigins,
  }
}
