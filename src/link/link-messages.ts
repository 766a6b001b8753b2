/**
 * The link protocol's own frames (protocol number 0). Every other protocol
 * registers a number of its own; see {@link PROTOCOL}.
 */
export const LINK_PROTO = 0

export const LinkMsg = {
  /** Keepalive on an idle link; carries nothing. */
  PING: 1,
  /** One piece of a message larger than the fragment size: [class, last, bytes]. */
  FRAG: 2,
  /** Signaling relayed through a linked peer: [to, from, initiator, data]. */
  SIGNAL: 3,
  /** Round-trip probe, sent HIGH: [seq, want]; `want` 1 also says "I want this link" (see rtt.ts). */
  PROBE: 4,
  /** The answer to a PROBE, sent HIGH at once: seq. */
  ECHO: 5,
} as const

/** Protocol numbers in use, one place so two protocols never collide. */
export const PROTOCOL = {
  LINK: LINK_PROTO,
  VON: 1,
  KADEMLIA: 2,
  /** Reserved: player state travels as Kademlia records. */
  PLAYER_STATE: 3,
  ASSETS: 4,
  CHAT: 5,
  PRESENCE: 6,
  /** Benchmarks and tests. */
  TEST: 250,
} as const
