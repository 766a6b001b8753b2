import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import type { Site } from './geometry.js'
import type { JoinTickets } from './join-tickets.js'
import type { NodeInfo } from './messages.js'
import type { WorldRules } from './world-rules.js'
import type { VonComponents, VonInit, VonListener, VonPeer } from './von-peer.js'

/** The public state of a VonPeer that its parts read (and the join and crowding control set). */
export type VonState = Pick<VonPeer, 'localId' | 'stats' | 'table' | 'x' | 'y' | 'aoi' | 'seq' | 'joined'>

/**
 * What the parts of a VonPeer (joining, neighbour messages, housekeeping) share
 * beyond its public API. Each part takes a `Pick` of only what it needs.
 */
export interface VonContext {
  readonly peer: VonState
  readonly env: VonComponents['env']
  readonly links: LinkManager
  readonly listener: VonListener | undefined
  readonly cfg: Readonly<Required<VonInit>>
  /**
   * Neighbours whose link failed, until when we ignore others' notices of them.
   * A crashed peer stays in the tables of those that have not noticed yet; their
   * notices would bring it back as a zombie that distorts our cell.
   */
  readonly gone: Map<PeerId, number>
  /** Neighbours we dropped as far, until when their HELLO must show we need them (see onHello). Bounded. */
  readonly dropped: Map<PeerId, number>
  /** The peer left the world. */
  stopped(): boolean
  /** This peer as a diagram site. */
  self(): Site
  /** This peer as others hear of it. */
  info(): NodeInfo
  /** AOI relevance: either lies within the other's AOI plus `buffers` margins. */
  relevant(ax: number, ay: number, aAoi: number, bx: number, by: number, bAoi: number, buffers: number): boolean
  /** AOI radius `aoi` plus `buffers` margins, scaled as in `relevant`. */
  reach(aoi: number, buffers: number): number
  /** Adds a neighbour and links to it (through `via` when given). */
  insert(info: NodeInfo, via: readonly PeerId[] | undefined): void
  remove(id: PeerId): void
  /** Sends our state to our neighbours. */
  broadcastState(): void
  /** HELLO's payload: our state and the digest of our table (see VonMsg.MOVE). */
  hello(): unknown[]
  /** Once per tick: a peer that stood still since the last one sends a changed digest anyway. */
  tickDigest(): void
  /** Counts a malformed or unexpected message from `from` (and reports it to the link layer). */
  bad(from: PeerId): void
  /** The world's rules neighbours' states are held to. */
  readonly rules: WorldRules
  /** Counts `count` broken rules in one message from `from` (and reports them to the link layer). */
  unlawful(from: PeerId, count: number): void
  /** Looks for the world again from where we are, staying joined (see Joining.lookAgain). */
  lookAgain(): void
  /** Join tickets from the bootstrap node (see join-tickets.ts); undefined: a world without them. */
  readonly tickets: JoinTickets | undefined
}
