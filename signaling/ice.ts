import { createHmac } from 'node:crypto'
import type { PeerId } from '../src/core/id.js'
import { isIceUrl, isTurnUrl, MAX_ICE_URLS, type IceServer } from '../src/platform/ice-servers.js'

export interface IceInit {
  /** STUN URLs handed to every peer (`stun:host:3478`). @default [] */
  stun?: string[]
  /** TURN URLs (`turn:host:3478?transport=udp`, `turns:host:5349?transport=tcp`); need `turnSecret`. @default [] */
  turn?: string[]
  /** coturn's `static-auth-secret`: signs ephemeral credentials; never sent, logged or put in a URL. */
  turnSecret?: string
  /** How long a TURN credential is valid. @default 21600 (6 h) */
  turnTtlSec?: number
}

/** Shortest and longest credential lifetime accepted. */
export const MIN_TURN_TTL_SEC = 60
export const MAX_TURN_TTL_SEC = 7 * 24 * 3600
export const DEFAULT_TURN_TTL_SEC = 6 * 3600

/**
 * The TURN REST API credential coturn checks under `use-auth-secret`: the
 * username is `expiry:user` (expiry in Unix seconds), the password the base64
 * HMAC-SHA1 of the username keyed with the shared secret.
 */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64')
}

/** What a peer is handed: the servers, and when its TURN credential expires (wall clock, s). */
export interface IceGrant {
  servers: IceServer[]
  expiresAtSec: number | undefined
}

/**
 * The node's ICE configuration: STUN URLs as given, TURN URLs with a fresh
 * credential per peer and grant. The secret stays in this object.
 */
export class IceConfig {
  readonly stun: readonly string[]
  readonly turn: readonly string[]
  readonly turnTtlSec: number
  readonly #secret: string | undefined

  /** Throws an Error with a message for the operator when the configuration is unusable. */
  constructor(
    init: IceInit = {},
    private readonly wallClockSec: () => number = () => Date.now() / 1000,
  ) {
    this.stun = [...(init.stun ?? [])]
    this.turn = [...(init.turn ?? [])]
    this.turnTtlSec = init.turnTtlSec ?? DEFAULT_TURN_TTL_SEC
    this.#secret = init.turnSecret
    for (const u of this.stun) if (!isIceUrl(u) || isTurnUrl(u)) throw new Error(`not a STUN URL: ${u} (stun:host:port or stuns:host:port)`)
    for (const u of this.turn) if (!isIceUrl(u) || !isTurnUrl(u)) throw new Error(`not a TURN URL: ${u} (turn:host:port?transport=udp or turns:host:port?transport=tcp)`)
    if (this.stun.length > MAX_ICE_URLS || this.turn.length > MAX_ICE_URLS) throw new Error(`at most ${MAX_ICE_URLS} STUN and ${MAX_ICE_URLS} TURN URLs`)
    if (this.turn.length > 0 && (this.#secret === undefined || this.#secret.length === 0)) throw new Error('TURN URLs need a shared secret (--turn-secret-file)')
    if (!Number.isInteger(this.turnTtlSec) || this.turnTtlSec < MIN_TURN_TTL_SEC || this.turnTtlSec > MAX_TURN_TTL_SEC) {
      throw new Error(`the TURN credential lifetime must be whole seconds in [${MIN_TURN_TTL_SEC}, ${MAX_TURN_TTL_SEC}]`)
    }
  }

  get hasTurn(): boolean {
    return this.turn.length > 0
  }

  /** When a connected peer gets a fresh credential: at half the lifetime, long before the old one lapses. */
  get renewAfterMs(): number {
    return (this.turnTtlSec * 1000) / 2
  }

  /** The servers for `peer` now: TURN with a credential valid for `turnTtlSec`. */
  grant(peer: PeerId): IceGrant {
    const servers: IceServer[] = []
    if (this.stun.length > 0) servers.push({ urls: [...this.stun] })
    if (!this.hasTurn) return { servers, expiresAtSec: undefined }
    const expiresAtSec = Math.floor(this.wallClockSec()) + this.turnTtlSec
    const username = `${expiresAtSec}:${peer}`
    servers.push({ urls: [...this.turn], username, credential: turnCredential(this.#secret!, username) })
    return { servers, expiresAtSec }
  }

  /** Describes the configuration for a log line: URLs and lifetime, never the secret. */
  describe(): Record<string, unknown> {
    return { stun: this.stun, turn: this.turn, turnTtlSec: this.hasTurn ? this.turnTtlSec : undefined }
  }

  /** Keeps the secret out of JSON.stringify and util.inspect of this object. */
  toJSON(): Record<string, unknown> {
    return this.describe()
  }
}
