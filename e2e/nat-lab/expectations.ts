import type { NatKind } from './netns.js'

/**
 * The ICE configurations of the matrix: no servers, the lab's STUN, STUN and
 * TURN (what the node hands out), and the node's servers with links through
 * TURN only (`?relay=1`, the browser check of docs/deploy.md).
 */
export type IceMode = 'none' | 'stun' | 'stun+turn' | 'relay-only'
export const ICE_MODES: readonly IceMode[] = ['none', 'stun', 'stun+turn']

/** What a pair should do under an ICE configuration: open or not, and on which paths. */
export interface Expectation {
  connect: boolean
  /** Path kinds accepted (at the dialer's end) when it connects. */
  paths: readonly string[]
}

/** One row of the matrix, as measured. */
export interface LabCase {
  /** node, or chromium with how the case runs it (rendered, with an anchor ...). */
  client: string
  a: string
  b: string
  nats: string
  ice: IceMode
  expected: Expectation
  connected: boolean
  /** Dial to open (Node: the link layer's own count; Chromium: page ready to link open). */
  openMs: number | undefined
  /** The dialer's path: kind (local/remote candidate types, ICE's RTT). */
  path: string | undefined
  /** The other end's view. */
  pathOther: string | undefined
  /** Why it did not open (the link layer's cause: ice-failed ...). */
  cause: string | undefined
  detail: string | undefined
  /** One-way move latency a to b, ms. */
  latencyMs: { p50: number; max: number; n: number; sent: number } | undefined
  /** What the agents reported of the case, in order (printed when the verdict fails). */
  trace?: string[]
  /** Extra checks of the case (Chromium: chat, the page's problem banner), each with its outcome. */
  checks?: { name: string; ok: boolean; detail: string }[]
}

const DIRECT = ['host', 'srflx', 'prflx']

/**
 * ICE's outcome rules for the lab's NATs (RFC 4787 terms). Linux MASQUERADE
 * maps endpoint-independently and filters by address and port; with
 * --random-fully it maps per destination (symmetric). A public peer answers
 * checks from anyone, so everyone reaches it, learning the other side's mapping
 * as a peer-reflexive candidate even without STUN. Two NATed peers need STUN to
 * learn each other's mappings, and that works only when neither maps per
 * destination; past a symmetric NAT only a relay (TURN) works. ICE prefers a
 * direct pair to a relayed one whenever both work.
 */
export function expectation(a: NatKind, b: NatKind, mode: IceMode): Expectation {
  if (mode === 'relay-only') return { connect: true, paths: ['relay'] }
  if (a === 'public' || b === 'public') return { connect: true, paths: DIRECT }
  if (a === 'cone' && b === 'cone') return mode === 'none' ? { connect: false, paths: [] } : { connect: true, paths: ['srflx', 'prflx'] }
  return mode === 'stun+turn' ? { connect: true, paths: ['relay'] } : { connect: false, paths: [] }
}

/** What is wrong with a case against its expectation (empty when it holds). */
export function verdict(c: LabCase): string[] {
  const out: string[] = []
  if (c.connected !== c.expected.connect) out.push(c.connected ? 'opened, expected no path' : `did not open (${c.cause ?? '?'})`)
  const kind = c.path?.split(' ')[0]
  if (c.connected && c.expected.connect && (kind === undefined || !c.expected.paths.includes(kind))) out.push(`path ${kind ?? 'unknown'}, expected ${c.expected.paths.join(' or ')}`)
  if (!c.connected && !c.expected.connect && c.cause !== 'ice-failed') out.push(`failed without the stated reason ice-failed (${c.cause ?? 'none'})`)
  // A link that opens and dies a second later is no connection: most moves must arrive.
  if (c.connected && (c.latencyMs === undefined || c.latencyMs.sent === 0 || c.latencyMs.n < c.latencyMs.sent * 0.75)) out.push(`moves arrived: ${c.latencyMs?.n ?? 0} of ${c.latencyMs?.sent ?? '?'}`)
  for (const k of c.checks ?? []) if (!k.ok) out.push(`${k.name}: ${k.detail}`)
  return out
}
