import type { ConnectFailure, LinkPath, PathKind } from '../../link/transport.js'

/** TURN error codes that mean the server refused our credentials (RFC 8489/8656). */
const TURN_AUTH_ERRORS = new Set([401, 403, 431, 437, 438, 441])

/** Types of the candidates each side offered, and what went wrong with our servers. */
export class IceFacts {
  readonly local = new Set<string>()
  readonly remote = new Set<string>()
  /** STUN/TURN error codes from `icecandidateerror` (Chromium reports them; 701 = server unreachable). */
  readonly serverErrors: number[] = []
  iceState = 'new'
  gathering = 'new'
  /** The remote's description arrived (the offer, or the answer to ours). */
  answered = false

  constructor(private readonly servers: { stun: number; turn: number }) {}

  addServerError(code: number): void {
    if (this.serverErrors.length < 8 && !this.serverErrors.includes(code)) this.serverErrors.push(code)
  }

  /** Why the attempt did not open: the most specific cause the facts show. */
  explain(): ConnectFailure {
    const detail = [
      `ICE ${this.iceState}, gathering ${this.gathering}`,
      `we offered ${list(this.local)}`,
      `they offered ${list(this.remote)}`,
      `servers: STUN ${this.servers.stun}, TURN ${this.servers.turn}`,
      ...(this.serverErrors.length > 0 ? [`server errors ${this.serverErrors.join(',')}`] : []),
    ].join('; ')
    if (this.servers.turn > 0 && !this.local.has('relay') && this.serverErrors.some((c) => TURN_AUTH_ERRORS.has(c))) return { code: 'turn-refused', detail }
    if (this.local.size === 0) return { code: 'no-candidates', detail }
    if (!this.answered) return { code: 'no-answer', detail }
    return { code: 'ice-failed', detail }
  }
}

function list(types: ReadonlySet<string>): string {
  return types.size === 0 ? 'no candidates' : [...types].sort().join('+')
}

/** The type of an ICE candidate line (`candidate:... typ srflx ...`); undefined when it has none. */
export function candidateType(candidate: unknown): string | undefined {
  if (typeof candidate !== 'string') return undefined
  const m = / typ (host|srflx|prflx|relay)(?: |$)/.exec(candidate)
  return m?.[1]
}

type IcePathKind = Exclude<PathKind, 'peer-relay'>
const RANK: Record<IcePathKind, number> = { host: 0, prflx: 1, srflx: 2, relay: 3 }

function isPathKind(v: unknown): v is IcePathKind {
  return typeof v === 'string' && v in RANK
}

type Stats = Record<string, unknown>

/**
 * The selected candidate pair in a `getStats()` report: the transport's
 * `selectedCandidatePairId` (Chromium, libwebrtc), else a pair marked
 * `selected` (Firefox), else the nominated succeeded one. Undefined before ICE
 * has selected a pair.
 */
export function selectedPath(report: Iterable<Stats>): LinkPath | undefined {
  const byId = new Map<string, Stats>()
  for (const s of report) if (typeof s.id === 'string') byId.set(s.id, s)
  let pair: Stats | undefined
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = byId.get(s.selectedCandidatePairId)
  }
  if (pair === undefined) {
    for (const s of byId.values()) {
      if (s.type !== 'candidate-pair') continue
      if (s.selected === true || (s.nominated === true && s.state === 'succeeded')) pair = s
    }
  }
  if (pair === undefined) return undefined
  const local = byId.get(String(pair.localCandidateId))
  const remote = byId.get(String(pair.remoteCandidateId))
  const lt = local?.candidateType
  const rt = remote?.candidateType
  if (!isPathKind(lt) || !isPathKind(rt)) return undefined
  const rtt = typeof pair.currentRoundTripTime === 'number' ? pair.currentRoundTripTime * 1000 : undefined
  return {
    kind: RANK[lt] >= RANK[rt] ? lt : rt,
    local: lt,
    remote: rt,
    protocol: typeof local?.relayProtocol === 'string' ? local.relayProtocol : String(local?.protocol ?? 'udp'),
    rttMs: rtt,
  }
}
