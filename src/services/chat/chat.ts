import type { Env } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import type { LinkManager } from '../../link/link-manager.js'
import { PROTOCOL } from '../../link/link-messages.js'
import { Priority } from '../../link/priority.js'
import { SlidingWindowLimiter, sanitizeText } from '../rate-limit.js'

/** Longest message, in UTF-16 units. */
export const MAX_CHAT_CHARS = 280
/** A remote message longer than this (before sanitizing) is dropped as malformed. */
const MAX_RAW_CHARS = 1024

export const ChatMsg = {
  /** One message: the text (a string). */
  SAY: 1,
} as const

export interface ChatMessage {
  readonly from: PeerId
  readonly text: string
  /** When it arrived (or was said), on this peer's monotonic clock (`Env.clock`), in ms. */
  readonly at: number
}

export type SayResult =
  | { readonly ok: true; readonly recipients: number; readonly message: ChatMessage }
  | { readonly ok: false; readonly reason: 'empty' | 'too-long' | 'rate-limited' | 'closed' }

export interface ChatComponents {
  env: Pick<Env, 'clock'>
  links: Pick<LinkManager, 'broadcast' | 'handle'>
  localId: PeerId
  /** Neighbours inside our AOI now: who hears us. */
  audience(): Iterable<PeerId>
  /** Whether `id` is a VON neighbour: chat from anyone else is dropped. */
  isNeighbour(id: PeerId): boolean
}

export interface ChatInit {
  /** Messages accepted per sender (and said by us) per window. @default 5 */
  maxPerWindow?: number
  /** @default 5000 */
  windowMs?: number
  /** Messages kept for listeners that subscribe late. @default 50 */
  historySize?: number
}

export interface ChatStats {
  sent: number
  received: number
  invalid: number
  rateLimited: number
  notNeighbour: number
}

/** The service's name in a peer (`peer.service<ChatService>(CHAT_SERVICE)`). */
export const CHAT_SERVICE = 'chat'

export type ChatListener = (m: ChatMessage) => void

/**
 * Chat with the players around us: a message goes (HIGH) to the VON neighbours
 * inside our AOI and is echoed to our own listeners. Receivers accept only
 * neighbours' messages, at most `maxPerWindow` per sender per window; the rest
 * is dropped and counted. Senders are authenticated by the link layer.
 */
export class ChatService {
  readonly name = CHAT_SERVICE
  readonly stats: ChatStats = { sent: 0, received: 0, invalid: 0, rateLimited: 0, notNeighbour: 0 }
  private readonly c: ChatComponents
  private readonly limiter: SlidingWindowLimiter<PeerId>
  private readonly historySize: number
  private readonly history: ChatMessage[] = []
  private listeners: ChatListener[] = []
  private closed = false

  constructor(components: ChatComponents, init: ChatInit = {}) {
    this.c = components
    this.limiter = new SlidingWindowLimiter(init.maxPerWindow ?? 5, init.windowMs ?? 5000)
    this.historySize = init.historySize ?? 50
    components.links.handle(PROTOCOL.CHAT, ChatMsg.SAY, (from, p) => this.onSay(from, p))
  }

  /** Says `text` (sanitized) to the neighbours in our AOI; our listeners hear it too. */
  say(text: string): SayResult {
    if (this.closed) return { ok: false, reason: 'closed' }
    if (text.length > MAX_CHAT_CHARS) return { ok: false, reason: 'too-long' }
    const clean = sanitizeText(text, MAX_CHAT_CHARS)
    if (clean === '') return { ok: false, reason: 'empty' }
    const now = this.c.env.clock.now()
    // Our own limit is the receivers': anything faster would be dropped by them anyway.
    if (!this.limiter.allow(this.c.localId, now)) return { ok: false, reason: 'rate-limited' }
    const to = [...this.c.audience()]
    this.c.links.broadcast(to, PROTOCOL.CHAT, ChatMsg.SAY, clean, Priority.HIGH)
    this.stats.sent++
    const message: ChatMessage = { from: this.c.localId, text: clean, at: now }
    this.emit(message)
    return { ok: true, recipients: to.length, message }
  }

  /** Hears every message, ours included; the returned function stops. */
  onMessage(listener: ChatListener): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  /** The last messages, oldest first. */
  recent(): readonly ChatMessage[] {
    return [...this.history]
  }

  close(): void {
    this.closed = true
    this.listeners = []
  }

  private onSay(from: PeerId, payload: unknown): void {
    if (this.closed) return
    if (typeof payload !== 'string' || payload.length > MAX_RAW_CHARS) {
      this.stats.invalid++
      return
    }
    if (!this.c.isNeighbour(from)) {
      this.stats.notNeighbour++
      return
    }
    if (!this.limiter.allow(from, this.c.env.clock.now())) {
      this.stats.rateLimited++
      return
    }
    const text = sanitizeText(payload, MAX_CHAT_CHARS)
    if (text === '') {
      this.stats.invalid++
      return
    }
    this.stats.received++
    this.emit({ from, text, at: this.c.env.clock.now() })
  }

  private emit(m: ChatMessage): void {
    this.history.push(m)
    if (this.history.length > this.historySize) this.history.shift()
    for (const l of this.listeners) l(m)
  }
}
