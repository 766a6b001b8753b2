/**
 * When each step of entering the world first happened, in ms since the page's
 * navigation started (`performance.now()`): what `npm run bench:join` breaks a
 * join into. Each phase keeps its first time only.
 */
export const JOIN_PHASES = [
  /** The page's script ran (bundle loaded and evaluated). */
  'script',
  /** This tab's player chosen and its identity loaded. */
  'identity',
  /** The signaling node's WebSocket opened. */
  'socket-open',
  /** The node answered the join with its host list (authenticated, in the world). */
  'hosts',
  /** The first WebRTC connection started (an offer, or an answer to one). */
  'dial',
  /** The first link opened (ICE, DTLS, both ids proved). */
  'link-open',
  /** The overlay's join completed. */
  'joined',
  /** The first neighbour's position arrived. */
  'first-neighbour',
  /** The game (Phaser) started its scene. */
  'game-ready',
  /** A neighbour was first drawn. */
  'first-drawn',
] as const

export type JoinPhase = (typeof JOIN_PHASES)[number]

export class JoinTimeline {
  private readonly marks = new Map<JoinPhase, number>()

  constructor(private readonly now: () => number) {}

  mark(phase: JoinPhase): void {
    if (!this.marks.has(phase)) this.marks.set(phase, this.now())
  }

  /** The phases reached so far, in ms since navigation. */
  snapshot(): Partial<Record<JoinPhase, number>> {
    return Object.fromEntries(this.marks)
  }
}
