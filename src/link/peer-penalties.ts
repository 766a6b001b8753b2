import type { PeerId } from '../core/id.js'

export interface PenaltiesInit {
  /**
   * How long a peer whose link was closed for misbehaving (a flood, malformed
   * or unexpected frames, a protocol's reports) is refused new links.
   * @default 60000
   */
  ignoreMs?: number
  /** Each repeat offence while the last is remembered doubles the time, up to this. @default 600000 */
  maxIgnoreMs?: number
  /** Peers remembered at once; past it, the one whose time ends soonest is forgotten. @default 1024 */
  maxPeers?: number
}

interface Penalty {
  until: number
  /** Offences remembered: one more each time, forgotten once maxIgnoreMs passed since the last ended. */
  strikes: number
}

/**
 * Peers whose links were closed for misbehaving, refused new links for a while
 * (the link manager refuses to dial them and drops their signaling). A bounded
 * map, so a Sybil with many identities costs us at most `maxPeers` entries.
 */
export class Penalties {
  private readonly peers = new Map<PeerId, Penalty>()
  private readonly ignoreMs: number
  private readonly maxIgnoreMs: number
  private readonly maxPeers: number

  constructor(init: PenaltiesInit = {}) {
    this.ignoreMs = init.ignoreMs ?? 60_000
    this.maxIgnoreMs = init.maxIgnoreMs ?? 600_000
    this.maxPeers = init.maxPeers ?? 1024
  }

  /** `peer` misbehaved: ignore it from now on, longer for a repeat offender. Returns for how long (ms). */
  punish(peer: PeerId, now: number): number {
    const old = this.peers.get(peer)
    const strikes = old !== undefined && now - old.until < this.maxIgnoreMs ? old.strikes + 1 : 1
    const ms = Math.min(this.maxIgnoreMs, this.ignoreMs * 2 ** Math.min(30, strikes - 1))
    if (old === undefined && this.peers.size >= this.maxPeers) this.forgetOne(now)
    this.peers.set(peer, { until: now + ms, strikes })
    return ms
  }

  ignores(peer: PeerId, now: number): boolean {
    const p = this.peers.get(peer)
    if (p === undefined) return false
    if (now - p.until >= this.maxIgnoreMs) this.peers.delete(peer)
    return now < p.until
  }

  get size(): number {
    return this.peers.size
  }

  /** Forgets every peer whose strikes have lapsed, or else the one whose time ends soonest. */
  private forgetOne(now: number): void {
    let soonest: PeerId | undefined = undefined
    let soonestUntil = Infinity
    for (const [peer, p] of this.peers) {
      if (now - p.until >= this.maxIgnoreMs) this.peers.delete(peer)
      else if (p.until < soonestUntil) {
        soonest = peer
        soonestUntil = p.until
      }
    }
    if (this.peers.size >= this.maxPeers && soonest !== undefined) this.peers.delete(soonest)
  }
}
