import { NAT_CLASSES } from '../link/nat.js'
import type { ConnectFailure, LinkPath, PathKind } from '../link/transport.js'
import type { SimIceInit, SimNat } from './network.js'

/** The share of peers in each NAT class; the four shares sum to 1. */
export type NatShares = Readonly<Record<SimNat, number>>

/** Every peer public: the simulator's behaviour before NAT classes (the default of --nat). */
export const ALL_OPEN: NatShares = Object.freeze({ open: 1, eim: 0, restricted: 0, symmetric: 0 })

/**
 * NAT classes of residential peers, from published measurements (derivation
 * in docs/nat-model.md):
 * - open 0.10: more than 90 % of 20,000 DSL lines used a NAT gateway (Maier,
 *   Schneider & Feldmann, "NAT usage in Residential Broadband Networks", PAM 2011).
 * - symmetric 0.16: about 82 % of the NATs tested supported UDP hole punching
 *   (Ford, Srisuresh & Kegel, "Peer-to-Peer Communication Across Network
 *   Address Translators", USENIX ATC 2005); we count the other 18 % of the
 *   90 % behind NAT as symmetric (0.9 x 0.18 = 0.162), a judgement.
 * - restricted 0.61, eim 0.13: no source we found splits the rest by
 *   filtering. We chose the split so that the share of pairs that need TURN
 *   under iceOutcome (s^2 + 2sr = 22 %) matches callstats.io's "about 22 % of
 *   the conferences need some kind of a TURN relay server" (2015): a calibration.
 * Check: among NATed peers alone these shares punch 73 % of pairs, inside the
 * 70 % +- 7.1 % that Trautwein et al. measured for DCUtR hole punching in IPFS
 * ("Challenging Tribal Knowledge", 2025).
 */
export const DEFAULT_NAT_SHARES: NatShares = Object.freeze({ open: 0.1, eim: 0.13, restricted: 0.61, symmetric: 0.16 })

const SUM_TOLERANCE = 1e-6

/**
 * Reads shares like `open:0.1,eim:0.1,restricted:0.55,symmetric:0.25` (a
 * class left out has share 0), or `default` for DEFAULT_NAT_SHARES, or
 * `open` for all open. Throws an Error that says what is wrong.
 */
export function parseNatShares(text: string): NatShares {
  const trimmed = text.trim()
  if (trimmed === 'default') return DEFAULT_NAT_SHARES
  if (trimmed === 'open') return ALL_OPEN
  const shares: Record<SimNat, number> = { open: 0, eim: 0, restricted: 0, symmetric: 0 }
  const seen = new Set<string>()
  for (const part of trimmed.split(',')) {
    const [name, value, extra] = part.split(':').map((s) => s.trim())
    if (name === undefined || name === '' || value === undefined || extra !== undefined) {
      throw new Error(`NAT shares: "${part}" is not CLASS:SHARE (e.g. restricted:0.55)`)
    }
    if (!(NAT_CLASSES as readonly string[]).includes(name)) {
      throw new Error(`NAT shares: unknown class "${name}" (classes: ${NAT_CLASSES.join(', ')})`)
    }
    if (seen.has(name)) throw new Error(`NAT shares: class "${name}" given twice`)
    seen.add(name)
    const share = value === '' ? NaN : Number(value)
    if (!Number.isFinite(share) || share < 0 || share > 1) {
      throw new Error(`NAT shares: the share of "${name}" must be a number from 0 to 1, got "${value}"`)
    }
    shares[name as SimNat] = share
  }
  const sum = NAT_CLASSES.reduce((s, c) => s + shares[c], 0)
  if (Math.abs(sum - 1) > SUM_TOLERANCE) throw new Error(`NAT shares must sum to 1, got ${sum} ("${text}")`)
  return Object.freeze(shares)
}

/** One peer's NAT class, drawn with the given shares. */
export function drawNatClass(rng: { next(): number }, shares: NatShares): SimNat {
  const u = rng.next()
  let acc = 0
  let last: SimNat = 'open'
  for (const c of NAT_CLASSES) {
    if (shares[c] <= 0) continue
    acc += shares[c]
    last = c
    if (u < acc) return c
  }
  return last // shares summing to a hair under 1
}

/** What the NAT flags of a scenario ask for: the shares to draw from and the ICE servers. */
export interface NatOptions {
  readonly shares: NatShares
  readonly ice: Required<SimIceInit>
}

/**
 * Reads `--nat SHARES` (see parseNatShares; default all open, as before NAT
 * classes), `--stun on|off` (default on), `--turn on|off` (default off) and
 * `--turn-extra-ms N` (default 20) and `--sdp-bytes N` (default 0: see
 * SimIceInit.sdpBytes) from a scenario's options.
 */
export function natOptions(options: ReadonlyMap<string, string>): NatOptions {
  const raw = options.get('nat')
  let shares = ALL_OPEN
  if (raw !== undefined) {
    try {
      shares = parseNatShares(raw)
    } catch (err) {
      throw new Error(`--nat: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }
  const extraRaw = options.get('turn-extra-ms')
  const turnExtraMs = extraRaw === undefined ? 20 : Number(extraRaw)
  if (!Number.isFinite(turnExtraMs) || turnExtraMs < 0) throw new Error(`--turn-extra-ms must be a number of ms, 0 or more, got "${extraRaw}"`)
  const sdpRaw = options.get('sdp-bytes')
  const sdpBytes = sdpRaw === undefined ? 0 : Number(sdpRaw)
  if (!Number.isInteger(sdpBytes) || sdpBytes < 0 || sdpBytes > 16_384) throw new Error(`--sdp-bytes must be a whole number of bytes, 0 to 16384, got "${sdpRaw}"`)
  return { shares, ice: { stun: onOff(options, 'stun', true), turn: onOff(options, 'turn', false), turnExtraMs, sdpBytes } }
}

function onOff(options: ReadonlyMap<string, string>, name: string, dflt: boolean): boolean {
  const raw = options.get(name)
  if (raw === undefined) return dflt
  if (raw === 'on' || raw === 'true') return true // a bare --turn reads as 'true'
  if (raw === 'off' || raw === 'false') return false
  throw new Error(`--${name} must be on or off, got "${raw}"`)
}

/**
 * The path of an open simulated link as a browser's stats would show it at
 * one end (`self`): a public end offers its host address, a NATed one its
 * STUN-mapped (srflx) address, or one the other end learnt only from its
 * checks (prflx: no STUN, or a symmetric NAT's per-destination port);
 * TURN gives both ends relay candidates. `kind` is iceOutcome's.
 */
export function simPath(kind: PathKind, self: SimNat, other: SimNat, rttMs: number): LinkPath {
  return { kind, local: candidateType(kind, self, other), remote: candidateType(kind, other, self), protocol: 'udp', rttMs }
}

function candidateType(kind: PathKind, self: SimNat, other: SimNat): string {
  if (kind === 'relay') return 'relay'
  if (self === 'open') return 'host'
  if (kind === 'srflx') return 'srflx'
  if (other === 'open') return 'prflx' // STUN off: the public end learns our mapping from our checks
  return self === 'symmetric' ? 'prflx' : 'srflx' // a full cone's mapping, reached by a symmetric NAT's new port
}

/** Why a pair no candidate pair connects did not open, with the facts. */
export function iceFailure(self: SimNat, other: SimNat, ice: Required<SimIceInit>): ConnectFailure {
  return { code: 'ice-failed', detail: `nat ${self} to ${other}, stun ${ice.stun ? 'on' : 'off'}, turn ${ice.turn ? 'on' : 'off'}` }
}
