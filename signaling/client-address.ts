import type { IncomingMessage } from 'node:http'
import { isIPv4, isIPv6 } from 'node:net'

/** The addresses a process on this host connects from. */
export const LOOPBACK_ADDRESSES: readonly string[] = ['127.0.0.1', '::1']

/**
 * The key the per-address limits count an address under: IPv4 as it is
 * (IPv4-mapped IPv6 too), IPv6 by its /64, because one subscriber gets a whole
 * /64 and could otherwise pick a fresh address per socket. Anything else
 * (a missing address) is its own key.
 */
export function addressKey(address: string): string {
  let a = address.trim()
  const zone = a.indexOf('%')
  if (zone >= 0) a = a.slice(0, zone)
  if (/^::ffff:/i.test(a) && isIPv4(a.slice(7))) return a.slice(7)
  if (!isIPv6(a)) return a
  return `${ipv6Groups(a).slice(0, 4).join(':')}::/64`
}

/** The eight groups of a valid IPv6 address, lower-case hex without leading zeros. */
function ipv6Groups(a: string): string[] {
  const split = (s: string): string[] => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])))
  const gap = a.indexOf('::')
  const head = split(gap < 0 ? a : a.slice(0, gap))
  const tail = gap < 0 ? [] : split(a.slice(gap + 2))
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail]
  return groups.map((g) => parseInt(g, 16).toString(16))
}

/** An address as proxies write it in X-Forwarded-For, without a port or brackets. */
function bareHop(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop)
  if (bracketed !== null) return bracketed[1]!
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop)
  return v4 === null ? hop : v4[1]!
}

/**
 * The address key a request is counted under: the TCP peer's, or, when that
 * peer is a trusted proxy, the right-most X-Forwarded-For hop that is not a
 * trusted proxy itself (hops further left are whatever the client wrote).
 */
export function clientAddress(req: IncomingMessage, trustedProxies: ReadonlySet<string>): string {
  const peer = addressKey(req.socket.remoteAddress ?? '?')
  if (!trustedProxies.has(peer)) return peer
  const header = req.headers['x-forwarded-for']
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '').split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim()
    if (hop === '') continue
    const key = addressKey(bareHop(hop))
    if (!trustedProxies.has(key)) return key
  }
  return peer
}

/** True for a host name or address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'))
}
