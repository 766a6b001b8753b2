import { randomBytes } from 'node:crypto'
import type { Clock, Crypto } from '../src/core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../src/core/id.js'
import { authMessage, NONCE_BYTES } from '../src/platform/signaling/signaling-protocol.js'
import type { Client, SignalingServerStats } from './client-state.js'

export interface IdleProbeComponents {
  clock: Clock
  crypto: Crypto
  stats: Pick<SignalingServerStats, 'idleProbes' | 'idleTimeouts'>
  /** Whether the node still serves `c`. */
  live(c: Client): boolean
  /** Sends `{"t":"challenge"}` with this nonce. */
  challenge(c: Client, nonce: Uint8Array): void
  close(c: Client, code: number, reason: string): void
}

export interface IdleProbeInit {
  /** Silence that earns a socket a fresh challenge; 0 turns the probe off. */
  idleTimeoutMs: number
  /** Time to answer it. */
  graceMs: number
}

/** Close code of an authenticated socket that went silent and did not answer a challenge. */
export const CLOSE_IDLE = 4001

/**
 * Closes authenticated sockets nobody runs the protocol on. A settled peer has
 * nothing to say to the node, and pongs prove only that a WebSocket library is
 * alive, so silence alone cannot tell a peer from a parked socket. After
 * `idleTimeoutMs` without a message the node sends a fresh challenge; the
 * client answers any challenge with `auth` (signaling-client.ts), and a socket
 * that does not within `graceMs` is closed with 4001. One timer per socket,
 * re-armed only when it fires: messages just stamp `lastSeenMs`.
 */
export class IdleProbe {
  constructor(
    private readonly c: IdleProbeComponents,
    private readonly init: IdleProbeInit,
  ) {}

  /** Starts watching a socket that just authenticated. */
  watch(client: Client): void {
    if (this.init.idleTimeoutMs > 0) this.arm(client, this.init.idleTimeoutMs)
  }

  unwatch(client: Client): void {
    clearTimeout(client.idleTimer)
  }

  /**
   * An `auth` on an authenticated socket: 'ok' when it answers the outstanding
   * challenge with the key the socket proved, 'failed' when it does not verify,
   * 'unasked' when no challenge is outstanding.
   */
  answer(client: Client, id: PeerId, key: Uint8Array, sig: Uint8Array): 'ok' | 'failed' | 'unasked' {
    if (client.probe === undefined) return 'unasked'
    if (!this.c.crypto.verify(key, authMessage(client.probe), sig) || peerIdFromPublicKey(this.c.crypto, key) !== id) return 'failed'
    client.probe = undefined
    return 'ok'
  }

  private arm(client: Client, delayMs: number): void {
    clearTimeout(client.idleTimer)
    client.idleTimer = setTimeout(() => this.check(client), delayMs)
  }

  private check(client: Client): void {
    if (!this.c.live(client)) return
    const now = this.c.clock.now()
    const quietMs = now - client.lastSeenMs
    if (client.probe !== undefined && client.lastSeenMs < client.probeSentMs && now - client.probeSentMs >= this.init.graceMs) {
      this.c.stats.idleTimeouts++
      return this.c.close(client, CLOSE_IDLE, `idle timeout: nothing received for ${Math.round(quietMs / 1000)} s, challenge unanswered`)
    }
    if (quietMs < this.init.idleTimeoutMs) return this.arm(client, this.init.idleTimeoutMs - quietMs)
    client.probe = new Uint8Array(randomBytes(NONCE_BYTES))
    client.probeSentMs = now
    this.c.stats.idleProbes++
    this.c.challenge(client, client.probe)
    this.arm(client, this.init.graceMs)
  }
}
