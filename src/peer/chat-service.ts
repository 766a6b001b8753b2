import type { PeerId } from '../core/id.js'
import { ChatService, type ChatInit } from '../services/chat/chat.js'
import type { PeerServiceFactory } from './session.js'

export { CHAT_SERVICE, ChatService, MAX_CHAT_CHARS, type ChatInit, type ChatMessage, type SayResult } from '../services/chat/chat.js'

/** Chat scoped to the AOI, on the session's links: `peer.service<ChatService>(CHAT_SERVICE)`. */
export function chatService(init: ChatInit = {}): PeerServiceFactory {
  return (ctx) => {
    const von = ctx.von
    const audience = function* (): Iterable<PeerId> {
      for (const n of von.table.values()) if (Math.hypot(n.x - von.x, n.y - von.y) <= von.aoi) yield n.id
    }
    return new ChatService({ env: ctx.env, links: ctx.links, localId: ctx.localId, audience, isNeighbour: (id) => von.table.has(id) }, init)
  }
}
