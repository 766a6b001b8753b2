import { describe, expect, it } from 'vitest'
import { NodeCrypto } from '../platform/node/node-crypto.js'
import { peerIdFromPublicKey } from '../core/id.js'
import { TICKET_TTL_MS, TicketChecker, TicketIssuer } from './join-tickets.js'
import { decodeQuery, encodeQuery } from './messages.js'

const crypto = new NodeCrypto()
const key = (n: number) => crypto.keyPairFromSeed(new Uint8Array(32).fill(n))
const idOf = (n: number) => peerIdFromPublicKey(crypto, key(n).publicKey)

/** A node and a peer checking its tickets, on one clock we move by hand; speed limit 50 units/s. */
function setup() {
  const clock = { t: 10_000, now() { return this.t } }
  const rules = { speedMax: 50 }
  const issuer = new TicketIssuer(key(1), clock, rules)
  const checker = new TicketChecker(crypto, issuer.publicKey, clock)
  return { clock, issuer, checker, rules }
}

describe('join tickets (issue 23, finding 4)', () => {
  it('a ticket reaches its place and as far as the speed limit carries since, for its joiner only, while fresh', () => {
    const { clock, issuer, checker, rules } = setup()
    const joiner = idOf(2)
    const t = issuer.issue(joiner, 100.004, 200)
    if (typeof t !== 'object') throw new Error(t)
    expect(t.x).toBe(100)
    expect(checker.covers(joiner, t, 100, 200, rules)).toBe(true)
    // One second of slack and 20 units: 50 + 20 at once.
    expect(checker.covers(joiner, t, 165, 200, rules)).toBe(true)
    expect(checker.covers(joiner, t, 400, 200, rules)).toBe(false)
    clock.t += 5000
    expect(checker.covers(joiner, t, 400, 200, rules)).toBe(true)
    expect(checker.covers(idOf(3), t, 100, 200, rules)).toBe(false)
    expect(checker.covers(joiner, { ...t, x: 101 }, 101, 200, rules)).toBe(false)
    const sig = t.sig.slice()
    sig[0]! ^= 1
    expect(checker.covers(joiner, { ...t, sig }, 100, 200, rules)).toBe(false)
    clock.t += TICKET_TTL_MS
    expect(checker.covers(joiner, t, 100, 200, rules)).toBe(false)
    // Another node's ticket is not ours.
    const other = new TicketChecker(crypto, key(9).publicKey, clock)
    clock.t -= TICKET_TTL_MS
    expect(other.covers(joiner, t, 100, 200, rules)).toBe(false)
  })

  it('the node gives an id a ticket only within the speed limit of its last, and not twice a second', () => {
    const { clock, issuer } = setup()
    const joiner = idOf(2)
    expect(typeof issuer.issue(joiner, 100, 100)).toBe('object')
    clock.t += 500
    expect(issuer.issue(joiner, 100, 100)).toBe('too-soon')
    clock.t += 1500
    // Two seconds (plus one of slack) at 50 units/s, plus 20: 170 units.
    expect(issuer.issue(joiner, 900, 900)).toBe('too-far')
    expect(typeof issuer.issue(joiner, 250, 100)).toBe('object')
    clock.t += 2000
    expect(issuer.issue(joiner, 100, 1000)).toBe('too-far')
    // In another world (another map) it may stand anywhere.
    expect(typeof issuer.issue(joiner, 100, 1000, 'elsewhere')).toBe('object')
    // A new id may start anywhere (what it costs is the node's per-address caps on authentication).
    expect(typeof issuer.issue(idOf(3), 900, 900)).toBe('object')
    expect(issuer.stats).toEqual({ issued: 4, tooFar: 2, tooSoon: 1 })
  })

  it('a query carries its ticket on the wire; a malformed ticket makes the query malformed', () => {
    const { issuer } = setup()
    const joiner = idOf(2)
    const ticket = issuer.issue(joiner, 12.34, 56.78)
    if (typeof ticket !== 'object') throw new Error(ticket)
    const query = { qid: 7, joiner, x: 12.34, y: 56.78, aoi: 100, path: [] }
    expect(decodeQuery(encodeQuery({ ...query, ticket }))).toEqual({ ...query, ticket })
    expect(decodeQuery(encodeQuery(query))).toEqual(query)
    const wire = encodeQuery({ ...query, ticket })
    for (const bad of [null, [1, 2, 3], [1234, 5678, 'now', ticket.sig], [1234, 5678, 1, ticket.sig.subarray(1)], [1234, 5678, Infinity, ticket.sig], [1e12, 5678, 1, ticket.sig]]) {
      expect(decodeQuery([...wire.slice(0, 6), bad])).toBeNull()
    }
    expect(decodeQuery([...wire, 1])).toBeNull()
  })
})
