import { equalBytes } from '../../core/bytes.js'
import type { Clock, Crypto } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import { TicketChecker, type JoinTicket, type JoinTickets, type TicketRules } from '../../von/join-tickets.js'

/** What NodeTickets needs of the signaling client. */
export interface TicketSource {
  readonly state: string
  requestTicket(x: number, y: number, done: (ticket: JoinTicket | undefined) => void): void
}

/**
 * A peer's join tickets from its signaling node (see von/join-tickets.ts): it
 * asks the node for its own, and checks others' against the key the node named
 * in its welcome, or the one before (a restarted node signs with a new key,
 * and peers still hold tickets of the old). The node's clock is not ours: the
 * offset comes from the welcome and every ticket.
 */
export class NodeTickets implements JoinTickets {
  private checkers: { key: Uint8Array; checker: TicketChecker }[] = []

  constructor(
    private readonly source: TicketSource,
    private readonly crypto: Pick<Crypto, 'verify'>,
    private readonly clock: Clock,
  ) {}

  /** The node's welcome: its ticket key (undefined: it issues none) and its clock. */
  welcome(key: Uint8Array | undefined, nodeNow: number | undefined): void {
    if (key === undefined) {
      this.checkers = []
      return
    }
    if (this.checkers[0] === undefined || !equalBytes(this.checkers[0].key, key)) {
      this.checkers = [{ key, checker: new TicketChecker(this.crypto, key, this.clock) }, ...this.checkers.slice(0, 1)]
    }
    if (nodeNow !== undefined) this.heard(nodeNow)
  }

  /** The node's clock read `nodeNow` (ms) just now. */
  heard(nodeNow: number): void {
    const offset = nodeNow - this.clock.now()
    for (const c of this.checkers) c.checker.offsetMs = offset
  }

  fetch(x: number, y: number, done: (ticket: JoinTicket | undefined) => void): void {
    if (this.checkers.length === 0) return done(undefined)
    this.source.requestTicket(x, y, done)
  }

  required(): boolean {
    return this.source.state === 'joined' && this.checkers.length > 0
  }

  covers(joiner: PeerId, ticket: JoinTicket, x: number, y: number, rules: TicketRules): boolean {
    return this.checkers.some((c) => c.checker.covers(joiner, ticket, x, y, rules))
  }

  fresh(ticket: JoinTicket, got: number, x: number, y: number, rules: TicketRules): boolean {
    return this.checkers[0]?.checker.fresh(ticket, got, x, y, rules) ?? false
  }
}
