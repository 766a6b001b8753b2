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
  /** Connections beyond this are closed with 1013. @default 10000 */
  maxClients?: number
  /** Live peers of the world returned on join. @default 8 */
  hostCacheSize?: number
  /** Ping period; a socket that missed the previous pong is terminated. @default 30000 */
  heartbeatMs?: number
  /** A socket that has not proved its id by then is closed. @default 10000 */
  authTimeoutMs?: number
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
    hostCacheSize: init.hostCacheSize ?? 8,
    heartbeatMs: init.heartbeatMs ?? 30_000,
    authTimeoutMs: init.authTimeoutMs ?? 10_000,
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
