import { concatBytes, utf8 } from '../core/bytes.js'
import type { Clock, Crypto, KeyPair } from '../core/env.js'
import { idToBytes, type PeerId } from '../core/id.js'
import { reachSince } from './world-rules.js'

/**
 * Join tickets (issue 23, finding 4: one identity asking who stands anywhere).
 * A joiner asks the bootstrap node for a ticket for the place it joins at: the
 * node signs "this id was at (x, y) at time t", and issues an id a ticket for a
 * place only if the world's speed limit carries it there from its last ticket.
 * An acceptor answers a join query with the nodes around its place only if its
 * ticket reaches that place (the speed limit again, since t): an identity
 * learns the neighbourhood of where it is, and of where it can walk to, never
 * of anywhere else; invented joiners (the path trick) have no ticket at all.
 * New identities cost what the node's per-address caps on authentication
 * make them cost. While the node cannot be reached, no ticket can be had and
 * none is asked for: the world takes joiners as before.
 */
export interface JoinTicket {
  /** Where the node saw the joiner ask from (hundredths, as the wire carries positions). */
  readonly x: number
  readonly y: number
  /** The node's clock when it signed (ms). */
  readonly t: number
  /** Ed25519 by the node's key over ticketMessage. */
  readonly sig: Uint8Array
}

/** What a VonPeer needs of join tickets. */
export interface JoinTickets {
  /** Asks the node for a ticket for us at (x, y): `done` gets it, or undefined (the node is down, or refused). */
  fetch(x: number, y: number, done: (ticket: JoinTicket | undefined) => void): void
  /** Whether a join query without a ticket that reaches its place is refused now (the node issues them and is up). */
  required(): boolean
  /** Whether `ticket` is the node's for `joiner`, fresh, and reaches (x, y) now under our world's rules. */
  covers(joiner: PeerId, ticket: JoinTicket, x: number, y: number, rules: TicketRules): boolean
  /** Whether a ticket of ours (got at `got`, our clock) still reaches (x, y) with room to spare: no need to ask again. */
  fresh(ticket: JoinTicket, got: number, x: number, y: number, rules: TicketRules): boolean
}

/** The world's speed limit, as the node and every acceptor enforce it. */
export interface TicketRules {
  readonly speedMax: number
}

const TAG = utf8('p2p-world/join-ticket/v1\n')

/** The bytes the node signs: tag, joiner id, x, y and t (float64, big-endian). */
export function ticketMessage(joiner: PeerId, x: number, y: number, t: number): Uint8Array {
  const nums = new DataView(new ArrayBuffer(24))
  nums.setFloat64(0, x)
  nums.setFloat64(8, y)
  nums.setFloat64(16, t)
  return concatBytes([TAG, idToBytes(joiner), new Uint8Array(nums.buffer)])
}

/** A ticket older than this reaches nowhere, whatever the speed limit (the node may be down that long: the world then goes without). */
export const TICKET_TTL_MS = 30_000
/** A joiner asks for a new ticket once its own is this old. */
const REFRESH_MS = 10_000
/** Distance a ticket's place may be from the query's beyond the speed limit (rounding, the buffer a mover's prediction runs ahead). */
const SLACK_UNITS = 20

/** Quantises a coordinate as the wire does (hundredths). */
const q = (v: number): number => Math.round(v * 100) / 100

/**
 * The node's side: signs tickets, at most one per id every `minGapMs`, each
 * within the speed limit of the id's last one (a bounded memory: the oldest
 * ids are forgotten first, and may then ask from anywhere, as a new id may).
 */
export class TicketIssuer {
  private readonly last = new Map<string, { x: number; y: number; t: number }>()
  readonly stats = { issued: 0, tooFar: 0, tooSoon: 0 }

  constructor(
    private readonly keyPair: KeyPair,
    private readonly clock: Clock,
    private readonly rules: TicketRules,
    private readonly opts: { minGapMs?: number; maxIds?: number } = {},
  ) {}

  get publicKey(): Uint8Array {
    return this.keyPair.publicKey
  }

  /** `scope`: the map the id asks in (a node serving several worlds remembers each apart). */
  issue(joiner: PeerId, rawX: number, rawY: number, scope = ''): JoinTicket | 'too-far' | 'too-soon' {
    const now = this.clock.now()
    const x = q(rawX)
    const y = q(rawY)
    const key = scope === '' ? joiner : `${scope}\n${joiner}`
    const prev = this.last.get(key)
    if (prev !== undefined) {
      if (now - prev.t < (this.opts.minGapMs ?? 1000)) {
        this.stats.tooSoon++
        return 'too-soon'
      }
      const reach = reachSince({ x: prev.x, y: prev.y, at: prev.t }, now, this.rules, SLACK_UNITS)
      if ((x - prev.x) ** 2 + (y - prev.y) ** 2 > reach * reach) {
        this.stats.tooFar++
        return 'too-far'
      }
      this.last.delete(key)
    } else if (this.last.size >= (this.opts.maxIds ?? 100_000)) {
      this.last.delete(this.last.keys().next().value!)
    }
    this.last.set(key, { x, y, t: now })
    this.stats.issued++
    return { x, y, t: now, sig: this.keyPair.sign(ticketMessage(joiner, x, y, now)) }
  }
}

/**
 * A peer's side: checks tickets against the node's key. `offsetMs` is the
 * node's clock minus ours (0 in the simulator; a browser learns it from the
 * tickets it gets).
 */
export class TicketChecker {
  offsetMs = 0

  constructor(
    private readonly crypto: Pick<Crypto, 'verify'>,
    private readonly nodeKey: Uint8Array,
    private readonly clock: Clock,
  ) {}

  covers(joiner: PeerId, ticket: JoinTicket, x: number, y: number, rules: TicketRules): boolean {
    const now = this.clock.now() + this.offsetMs
    const age = now - ticket.t
    // A second of clock skew either way.
    if (age < -1000 || age > TICKET_TTL_MS) return false
    const reach = reachSince({ x: ticket.x, y: ticket.y, at: ticket.t }, now, rules, SLACK_UNITS)
    if ((x - ticket.x) ** 2 + (y - ticket.y) ** 2 > reach * reach) return false
    return this.crypto.verify(this.nodeKey, ticketMessage(joiner, ticket.x, ticket.y, ticket.t), ticket.sig)
  }

  fresh(ticket: JoinTicket, got: number, x: number, y: number, rules: TicketRules): boolean {
    if (this.clock.now() - got > REFRESH_MS) return false
    // Half the slack: a query it carries reaches an acceptor a moment later.
    const reach = reachSince({ x: ticket.x, y: ticket.y, at: got }, this.clock.now(), rules, SLACK_UNITS / 2)
    return (x - ticket.x) ** 2 + (y - ticket.y) ** 2 <= reach * reach
  }
}
