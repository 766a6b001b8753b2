import { encodeFrame } from '../core/codec.js'
import type { Link } from './link.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import type { ResolvedLinkInit } from './link-types.js'
import { Priority } from './priority.js'
import { sendProbe } from './rtt.js'

const PING_FRAME = encodeFrame(LINK_PROTO, LinkMsg.PING, null)
/** A keepalive that says "I still want this link". */
const WANTED_PING = encodeFrame(LINK_PROTO, LinkMsg.PING, 1)

/**
 * Keeps an open link alive, or says why it is dead: 'timeout' (silent too long
 * while we or the remote want it) or 'idle' (nobody wants it and it lingered).
 * A link someone insists on gets keepalives (an RTT probe while in use) and is
 * declared dead after deadAfterMs of silence. One nobody wants gets none and
 * closes after gcIdleMs of silence: recently used links linger a while.
 */
export function checkLiveness(link: Link, now: number, init: ResolvedLinkInit, wanted: boolean): 'timeout' | 'idle' | undefined {
  const remoteWants = now < link.remoteWantsUntil
  // A lingering idle link that a protocol takes up again has heard nothing for a
  // while: its dead timer starts when it became wanted, not at the last frame.
  if (wanted && !link.wanted) link.wantedSince = now
  link.wanted = wanted
  if (wanted || remoteWants) {
    const heard = wanted ? Math.max(link.lastRecvAt, link.wantedSince) : link.lastRecvAt
    if (now - heard > init.deadAfterMs) return 'timeout'
  } else if (now - Math.max(link.lastRecvAt, link.lastUseAt) > Math.max(init.deadAfterMs, init.gcIdleMs)) {
    return 'idle'
  }
  if (wanted && init.rttProbeMs > 0 && now - link.lastUseAt < init.gcIdleMs && link.rtt.probeDue(now, init.rttProbeMs)) {
    sendProbe(link, now, true) // doubles as the keepalive; idle links keep plain keepalives (cheaper)
  } else if (now - link.lastSentAt >= init.keepaliveMs && link.scheduler.isEmpty() && (wanted || remoteWants)) {
    link.scheduler.enqueue(Priority.MEDIUM, wanted ? WANTED_PING : PING_FRAME, now)
    link.pump(now)
  }
  return undefined
}
