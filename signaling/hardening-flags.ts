import { isIP } from 'node:net'
import { isLoopbackHost, LOOPBACK_ADDRESSES } from './client-address.js'
import { resolveOptions, type SignalingServerInit } from './options.js'
import { parseOrigins } from './origins.js'

const D = resolveOptions({})

/** The flags against hostile clients of `npm start` and `npm run signaling` (parseArgs options). */
export const HARDENING_FLAGS = {
  'max-per-address': { type: 'string' },
  'auths-per-minute': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'ticket-speed': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'trust-proxy': { type: 'string', multiple: true },
  'exempt-address': { type: 'string', multiple: true },
} as const

export const HARDENING_USAGE = `[--max-per-address ${D.maxSocketsPerAddress}] [--auths-per-minute ${D.authsPerMinutePerAddress}] [--idle-timeout-ms ${D.idleTimeoutMs}] [--ticket-speed ${D.ticketSpeed}] [--allow-origin ORIGIN]... [--trust-proxy ADDR]... [--exempt-address ADDR|none]...`

export type HardeningOptions = Pick<
  SignalingServerInit,
  'maxSocketsPerAddress' | 'authsPerMinutePerAddress' | 'idleTimeoutMs' | 'ticketSpeed' | 'allowedOrigins' | 'trustProxy' | 'exemptAddresses'
>

/**
 * The node's limits from parsed flags; throws an Error with a message for the
 * operator. Without `--exempt-address`, loopback is exempt when the node is
 * bound to loopback (every client is this machine: its tabs, bots, benches) or
 * runs anchors (they connect over loopback); otherwise nothing is.
 */
export function hardeningFromFlags(flags: Record<string, unknown>, ctx: { host: string; anchors: number }): HardeningOptions {
  const list = (name: string): string[] => (Array.isArray(flags[name]) ? (flags[name] as unknown[]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '') : [])
  const addresses = (name: string): string[] => {
    const out = list(name)
    const bad = out.find((a) => isIP(a) === 0)
    if (bad !== undefined) throw new Error(`--${name} ${bad}: not an IP address`)
    return out
  }
  const int = (name: string, min: number, max: number): number | undefined => {
    if (flags[name] === undefined) return undefined
    const v = Number(flags[name])
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`)
    return v
  }
  const exemptGiven = list('exempt-address')
  const exemptAddresses = exemptGiven.length === 1 && exemptGiven[0] === 'none'
    ? []
    : exemptGiven.length > 0
      ? addresses('exempt-address')
      : isLoopbackHost(ctx.host) || ctx.anchors > 0 ? [...LOOPBACK_ADDRESSES] : []
  const out: HardeningOptions = {
    allowedOrigins: parseOrigins(list('allow-origin')),
    trustProxy: addresses('trust-proxy'),
    exemptAddresses,
  }
  const perAddress = int('max-per-address', 1, 1_000_000)
  const auths = int('auths-per-minute', 1, 1_000_000)
  const idle = int('idle-timeout-ms', 0, 86_400_000)
  if (perAddress !== undefined) out.maxSocketsPerAddress = perAddress
  if (auths !== undefined) out.authsPerMinutePerAddress = auths
  if (idle !== undefined) out.idleTimeoutMs = idle
  const speed = int('ticket-speed', 0, 1_000_000)
  if (speed !== undefined) out.ticketSpeed = speed
  return out
}
