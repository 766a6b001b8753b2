import type { Log } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import type { ConnectFailure } from './transport.js'

/** A connection attempt that closed before it opened. */
export interface LinkFailure {
  readonly peer: PeerId
  /** Clock time it was given up, ms. */
  readonly at: number
  /** How long it tried, ms. */
  readonly triedMs: number
  /** The link layer's close reason (connect-timeout, the transport's error ...). */
  readonly reason: string
  /** How its signaling travelled. */
  readonly route: 'intro' | 'signaling' | undefined
  /** What the transport could tell of the cause. */
  readonly cause: ConnectFailure | undefined
}

/** Failures kept; older ones are dropped first. */
export const MAX_LINK_FAILURES = 32

/**
 * The last connection attempts that failed, so a person can be told why
 * players stay out of reach (and a test can assert it). Bounded.
 */
export class LinkFailures {
  private readonly items: LinkFailure[] = []
  /** Every failure recorded, including the dropped ones. */
  total = 0

  /** Keeps `f`, and logs it: at info when the network is to blame, else at debug (a peer that left mid-dial). */
  record(f: LinkFailure, log?: Log): void {
    this.total++
    this.items.push(f)
    if (this.items.length > MAX_LINK_FAILURES) this.items.shift()
    const network = f.cause !== undefined && f.cause.code !== 'no-answer'
    log?.[network ? 'info' : 'debug']('link failed', { peer: f.peer, reason: f.reason, cause: f.cause?.code, detail: f.cause?.detail })
  }

  /** Failures at or after `since` (clock ms), oldest first. */
  since(since: number): LinkFailure[] {
    return this.items.filter((f) => f.at >= since)
  }
}
