import { readFileSync, statSync } from 'node:fs'
import type { Log } from '../src/core/env.js'
import { parseIceOverride, type IceServer } from '../src/platform/ice-servers.js'
import { DEFAULT_TURN_TTL_SEC, IceConfig } from './ice.js'

/** The ICE flags of `npm start` and `npm run signaling` (parseArgs options). */
export const ICE_FLAGS = {
  stun: { type: 'string', multiple: true },
  turn: { type: 'string', multiple: true },
  'turn-secret-file': { type: 'string' },
  'turn-ttl': { type: 'string', default: String(DEFAULT_TURN_TTL_SEC) },
  ice: { type: 'string' },
} as const

export const ICE_USAGE = `[--stun URL]... [--turn URL]... [--turn-secret-file FILE] [--turn-ttl ${DEFAULT_TURN_TTL_SEC}] [--ice node|none|URLS|JSON]`

/** Reads the shared TURN secret: the file's content without surrounding whitespace. */
export function readTurnSecret(file: string, log: Log): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`cannot read --turn-secret-file ${file}: ${(err as Error).message}`)
  }
  const secret = text.trim()
  if (secret.length === 0) throw new Error(`--turn-secret-file ${file} is empty`)
  if ((statSync(file).mode & 0o077) !== 0) log.warn('the TURN secret file is readable by other users: chmod 600 it', { file })
  return secret
}

/**
 * The node's ICE configuration and the anchors' override from parsed flags;
 * throws an Error with a message for the operator.
 */
export function iceFromFlags(flags: Record<string, unknown>, log: Log): { ice: IceConfig; anchorIce: IceServer[] | undefined } {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [])
  const secretFile = typeof flags['turn-secret-file'] === 'string' ? flags['turn-secret-file'] : undefined
  const turn = list(flags.turn)
  if (secretFile !== undefined && turn.length === 0) log.warn('--turn-secret-file without --turn: no TURN server is handed out', {})
  const ttl = Number(flags['turn-ttl'] ?? DEFAULT_TURN_TTL_SEC)
  const ice = new IceConfig({
    stun: list(flags.stun),
    turn,
    turnTtlSec: ttl,
    ...(secretFile === undefined || turn.length === 0 ? {} : { turnSecret: readTurnSecret(secretFile, log) }),
  })
  let anchorIce: IceServer[] | undefined
  if (typeof flags.ice === 'string') {
    const o = parseIceOverride(flags.ice)
    if (o !== 'node' && !Array.isArray(o)) throw new Error(`--${o.error}`)
    anchorIce = o === 'node' ? undefined : o
  }
  return { ice, anchorIce }
}
