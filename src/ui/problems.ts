/**
 * What a person should be told about the connection, decided from plain facts
 * the adapter observes (pure, so it is tested without a network).
 */

export type ProblemCode = 'no-webrtc' | 'replaced' | 'world-full' | 'signaling-unreachable' | 'signaling-lost' | 'webrtc-blocked' | 'links-failing' | 'bad-parameter'

export interface Problem {
  readonly code: ProblemCode
  /** 'error': the player cannot play; 'notice': playing works, something is degraded. */
  readonly severity: 'error' | 'notice'
  readonly title: string
  /** What happened and what to do. */
  readonly text: string
  /** The label of the banner's button, when it does something other than retry. @default 'Retry now' */
  readonly action?: string
}

export interface ConnectionFacts {
  webrtcAvailable: boolean
  signalingUrl: string
  signaling: string
  /** Sockets opened to the node so far. */
  connects: number
  /** Close code and reason of the node's last socket, if it closed. */
  lastClose: { code: number; reason: string } | undefined
  peerState: string
  /** Live peers the node listed. */
  hosts: number
  linksOpen: number
  /** A link ever opened this page. */
  everLinked: boolean
  /** How long the node has listed other peers while no link ever opened, ms (0 once linked). */
  unlinkedForMs: number
  /** Causes of connection attempts that failed for network reasons in the last {@link FAILURE_WINDOW_MS} (ice-failed, no-candidates, turn-refused). */
  recentFailures: readonly string[]
  /** The ICE servers in use, and whether links may only go through TURN (`?relay=1`). */
  ice: { stun: number; turn: number; relayOnly?: boolean }
  /** A URL parameter the page could not use, with what it did instead. */
  badParameter?: string
  /** This page stepped back because the same player connected from another tab or browser. */
  replaced?: boolean
}

/** Failed connection attempts older than this no longer make a problem. */
export const FAILURE_WINDOW_MS = 60_000

/** Trying this long to open a first link, with peers listed, suggests WebRTC is blocked. */
export const WEBRTC_BLOCKED_AFTER_MS = 15_000

/** The close code the signaling node uses when it is at its client limit. */
export const CLOSE_SERVER_FULL = 1013

const RETRYING = 'The page keeps retrying by itself; "Retry now" tries at once.'

export function diagnose(f: ConnectionFacts): Problem | undefined {
  if (!f.webrtcAvailable) {
    return {
      code: 'no-webrtc', severity: 'error', title: 'WebRTC is not available',
      text: 'This browser has WebRTC switched off or lacks it (some privacy settings and extensions disable it). Players connect to each other directly over WebRTC: enable it, or open the page in a current Chrome, Firefox or Safari.',
    }
  }
  if (f.replaced === true) {
    return {
      code: 'replaced', severity: 'error', title: 'You are playing this player somewhere else', action: 'Play here',
      text: 'This player (the same identity) connected from another tab or browser, so this page stepped back instead of fighting over it. "Play here" takes it over; the other page then steps back.',
    }
  }
  const outside = f.peerState === 'waiting' || f.peerState === 'idle'
  const nodeDown = f.signaling === 'backoff' || (f.signaling === 'connecting' && f.connects > 1)
  if (nodeDown && f.lastClose?.code === CLOSE_SERVER_FULL && outside) {
    return {
      code: 'world-full', severity: 'error', title: 'The world is full',
      text: `The signaling node at ${f.signalingUrl} is at its player limit and turned us away. Wait a minute, or run your own node (npm start) and open its address. ${RETRYING}`,
    }
  }
  if (nodeDown && outside) {
    return {
      code: 'signaling-unreachable', severity: 'error', title: 'Cannot reach the signaling node',
      text: `The signaling node at ${f.signalingUrl} does not answer (attempt ${f.connects}). Check that it is running (npm start prints its address) and that your network allows WebSockets to it. ${RETRYING}`,
    }
  }
  if (nodeDown) {
    return {
      code: 'signaling-lost', severity: 'notice', title: 'Signaling node lost',
      text: 'You are still in the world: players you are linked to keep working over direct links. New players cannot reach you until the node is back; retrying.',
    }
  }
  const failing = linksFailing(f)
  if (failing !== undefined) return failing
  if (!f.everLinked && f.linksOpen === 0 && f.hosts > 0 && f.unlinkedForMs >= WEBRTC_BLOCKED_AFTER_MS) {
    return {
      code: 'webrtc-blocked', severity: 'error', title: 'Cannot connect to other players',
      text: 'The signaling node answered, but no direct connection to another player opened. A firewall, VPN, corporate network or a browser setting may block WebRTC. Try another network or browser, or turn off the blocking extension. Retrying.',
    }
  }
  if (f.badParameter !== undefined) {
    return { code: 'bad-parameter', severity: 'notice', title: 'Not every URL parameter was used as given', text: f.badParameter }
  }
  return undefined
}

const DEPLOY = 'docs/deploy.md in the game\'s repository'

/** Connection attempts failing for network reasons: why, and what the player (or the host) can do. */
function linksFailing(f: ConnectionFacts): Problem | undefined {
  const n = f.recentFailures.length
  if (n === 0) return undefined
  const cut = f.linksOpen === 0 && !f.everLinked
  const severity = cut ? 'error' : 'notice'
  const lead = cut ? 'No connection to another player opened.' : `${n} connection${n === 1 ? '' : 's'} to nearby players failed in the last minute; you still play with the players you are linked to.`
  if (f.recentFailures.includes('turn-refused')) {
    return {
      code: 'links-failing', severity, title: 'The relay (TURN) server refused us',
      text: `${lead} The TURN server turned down the credentials this page got from the signaling node, so players behind strict NATs cannot be reached. The host should check that the node's --turn-secret-file holds the TURN server's static-auth-secret and that both clocks are right (${DEPLOY}). Reloading fetches fresh credentials.`,
    }
  }
  if (f.ice.relayOnly === true && f.ice.turn === 0) {
    return {
      code: 'links-failing', severity, title: 'Relay only, but no TURN server',
      text: `${lead} This page was opened with ?relay=1 (links through a TURN server only), and this world's signaling node hands out no TURN server. Remove ?relay=1, or ask the host to add TURN (${DEPLOY}).`,
    }
  }
  if (f.recentFailures.every((c) => c === 'no-candidates')) {
    return {
      code: 'links-failing', severity, title: 'This browser offers no network address',
      text: `${lead} WebRTC found no address of this device to offer other players. A privacy setting or extension that limits WebRTC ("WebRTC leak protection"), or a VPN, does this: allow WebRTC for this site, or turn the extension off here.`,
    }
  }
  const servers = f.ice.turn > 0
    ? 'even through the TURN relay: this network may block UDP and TCP to it. Try another network (Wi-Fi instead of mobile data, or the other way round).'
    : `and this world has no TURN relay to carry such links (ICE servers: ${f.ice.stun > 0 ? 'STUN only' : 'none'}). Try another network (Wi-Fi instead of mobile data), or ask the host to add a TURN server (${DEPLOY}).`
  return {
    code: 'links-failing', severity, title: cut ? 'Cannot reach other players directly' : 'Some players are out of reach',
    text: `${lead} Your network and theirs could not reach each other directly (a strict NAT, such as a mobile carrier's, or a firewall that blocks UDP), ${servers}`,
  }
}
