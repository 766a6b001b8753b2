import { PresenceService, type PresenceInit } from '../services/presence/presence.js'
import type { PeerServiceFactory } from './session.js'

export { PRESENCE_SERVICE, PresenceService, type PresenceInit } from '../services/presence/presence.js'
export type { Profile } from '../services/presence/profile.js'

/**
 * Presence on the session's links and VON neighbours: `peer.service<PresenceService>(PRESENCE_SERVICE)`.
 * With a player service listed before it, the player's name, colour and avatar feed it (see player-service.ts).
 */
export function presenceService(init: PresenceInit = {}): PeerServiceFactory {
  return (ctx) => {
    const svc = new PresenceService({ env: ctx.env, links: ctx.links, localId: ctx.localId, neighbours: () => ctx.von.table.keys() }, init)
    ctx.neighbours.subscribe({ onEnter: (id) => svc.neighbourEntered(id), onLeave: (id) => svc.neighbourLeft(id) })
    return svc
  }
}
