import { encodeFrame } from '../core/codec.js'
import type { Link } from './link.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import type { ResolvedLinkInit } from './link-types.js'
import { Priority } from './priority.js'
import { sendProbe } from './rtt.js'

const PING_FRAME = encodeFrame(LINK_PROTO, LinkMsg.PING, null)
/** A keepalive that says "I still want this link". */
const WANTED_PING = encodeFrame(LINK_PROTO, LinkMsg.PING, 1)

/** The least time a probe sent to a quiet link is given to be answered. */
const SUSPECT_MIN_WAIT_MS = 300
/** A busy link (a relay's, carrying circuits) is quiet after this many of its usual gaps between frames... */
const SUSPECT_GAPS = 6
/** ...but never sooner than this. */
const SUSPECT_FLOOR_MS = 300

/**
 * Keeps an open link alive, or says why it is dead: 'timeout' (silent too long
 * while we or the remote want it) or 'idle' (nobody wants it and it lingered).
 * A link someone insists on gets keepalives (an RTT probe while in use) and is
 * declared dead after deadAfterMs of silence, or sooner when it has been quiet
 * for suspectAfterMs and a probe sent then goes unanswered (only when `onTime`:
 * our own ticks are not running late). One nobody wants gets none and closes
 * after gcIdleMs of silence: recently used links linger a while.
 */
export function checkLiveness(link: Link, now: number, init: ResolvedLinkInit, wanted: boolean, onTime = true): 'timeout' | 'idle' | undefined {
  const remoteWants = now < link.remoteWantsUntil
  // A lingering idle link that a protocol takes up again has heard nothing for a
  // while: its dead timer starts when it became wanted, not at the last frame.
  if (wanted && !link.wanted) link.wantedSince = now
  link.wanted = wanted
  if (wanted || remoteWants) {
    const heard = wanted ? Math.max(link.lastRecvAt, link.wantedSince) : link.lastRecvAt
    if (now - heard > init.deadAfterMs) return 'timeout'
    if (init.suspectAfterMs > 0 && now - heard >= Math.min(init.suspectAfterMs, Math.max(SUSPECT_FLOOR_MS, SUSPECT_GAPS * link.recvGapMs))) {
      if (link.suspectProbeAt < heard) {
        if (onTime) {
          link.suspectProbeAt = now
          sendProbe(link, now, wanted)
        }
      } else if (onTime && now - link.suspectProbeAt >= probeWaitMs(link)) {
        return 'timeout'
      }
    }
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

/** How long a probe to a quiet link may take: one retransmission timeout (RFC 6298), at least SUSPECT_MIN_WAIT_MS. */
function probeWaitMs(link: Link): number {
  const { srttMs, rttvarMs } = link.rtt
  return srttMs === undefined ? 2 * SUSPECT_MIN_WAIT_MS : Math.max(SUSPECT_MIN_WAIT_MS, srttMs + 4 * rttvarMs)
}
