import { WORLD_NAME_RULE } from '../src/platform/signaling/signaling-protocol.js'

/** Longest piece of a client's own text echoed back in an error. */
const ECHO_CHARS = 32

/**
 * Why `parseClientMessage` refused a text frame, in words for the sender. Called
 * only for refused frames (at most `maxBadFrames` per socket), so parsing twice costs nothing.
 */
export function explainBadFrame(text: string): string {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return 'not JSON: every frame is one JSON object'
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object: every frame is one JSON object'
  const t = (v as Record<string, unknown>).t
  if (t === undefined) return 'missing message type "t"'
  if (typeof t !== 'string') return 'message type "t" must be a string'
  switch (t) {
    case 'auth':
      return 'malformed auth: needs key (32 bytes as hex) and sig (64 bytes as hex)'
    case 'join':
      return `malformed join: world must be ${WORLD_NAME_RULE}, in Unicode NFC`
    case 'signal':
      return 'malformed signal: needs to (a peer id, 64 hex digits), initiator (true or false) and data (an object)'
    case 'ticket':
      return 'malformed ticket: needs x and y (finite numbers within ±1e7)'
    default:
      return `unknown message type ${JSON.stringify(t.length > ECHO_CHARS ? `${t.slice(0, ECHO_CHARS)}…` : t)}`
  }
}
