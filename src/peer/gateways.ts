import type { PeerId } from '../core/id.js'

/** The three bootstrap sources of seed 003, as peer ids. */
export interface GatewaySources {
  /** Peers the user named (`?peers=` / `--peers`). */
  readonly manual: readonly PeerId[]
  /** Live peers of the world, from the signaling node's last answer (the host cache). */
  readonly hosts: readonly PeerId[]
  /** Peers of the last session(s), nearest to where we enter first (the local cache). */
  readonly cached: readonly PeerId[]
}

/**
 * Where a join query goes first. Entering: the peers the user named, then the
 * node's live hosts, then the cache (possibly stale, and each dead gateway costs
 * a join timeout). Rejoining after losing every link: the cache first (our last
 * neighbours, near our position and likely alive), then the named peers and the
 * node's hosts. Without duplicates or self, at most `max`.
 */
export function orderGateways(self: PeerId, src: GatewaySources, rejoin: boolean, max: number): PeerId[] {
  const order = rejoin ? [src.cached, src.manual, src.hosts] : [src.manual, src.hosts, src.cached]
  const out: PeerId[] = []
  const seen = new Set<PeerId>([self])
  for (const list of order) {
    for (const id of list) {
      if (out.length >= max) return out
      if (seen.has(id)) continue
      seen.add(id)
      out.push(id)
    }
  }
  return out
}
