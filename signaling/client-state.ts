import type { WebSocket } from 'ws'
import type { PeerId } from '../src/core/id.js'
import type { TokenBucket } from './token-bucket.js'

/** The node's state of one socket. */
export interface Client {
  readonly ws: WebSocket
  readonly nonce: Uint8Array
  /** For logs: the address key and the TCP peer. */
  readonly addr: string
  /** What the per-address limits count it under (`addressKey`). */
  readonly address: string
  /** Its address is exempt from the per-address limits (and from the host cache's bound per address). */
  readonly exempt: boolean
  readonly messages: TokenBucket
  readonly bytes: TokenBucket
  id?: PeerId
  world?: string
  alive: boolean
  bad: number
  dropped: number
  /** A 'rate-limited' error was sent since the last accepted frame: don't echo a flood. */
  limitedNotified: boolean
  authTimer?: ReturnType<typeof setTimeout>
  /** Renews the TURN credential before it expires. */
  iceTimer?: ReturnType<typeof setTimeout>
  /** When the last well-formed message arrived (clock ms). */
  lastSeenMs: number
  /** The nonce of an unanswered re-challenge of an idle socket, and when it went out. */
  probe?: Uint8Array
  probeSentMs: number
  idleTimer?: ReturnType<typeof setTimeout>
}

export interface SignalingServerStats {
  connections: number
  authenticated: number
  relayed: number
  badFrames: number
  rateLimited: number
  heartbeatTimeouts: number
  /** Fresh TURN credentials pushed to connected peers. */
  iceRenewals: number
  /** Upgrades refused for their Origin (HTTP 403). */
  refusedOrigin: number
  /** Upgrades refused because their address was at its cap (HTTP 429). */
  refusedAddress: number
  /** Authentications refused because their address had spent its budget. */
  authRateLimited: number
  /** Sockets closed to make room for an address holding fewer. */
  evicted: number
  /** Idle sockets challenged again, and those closed for not answering. */
  idleProbes: number
  idleTimeouts: number
  /** Join tickets issued. */
  tickets: number
}

export function newStats(): SignalingServerStats {
  return {
    connections: 0, authenticated: 0, relayed: 0, badFrames: 0, rateLimited: 0, heartbeatTimeouts: 0, iceRenewals: 0,
    refusedOrigin: 0, refusedAddress: 0, authRateLimited: 0, evicted: 0, idleProbes: 0, idleTimeouts: 0, tickets: 0,
  }
}
