import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { AddressLimits } from './address-limits.js'
import { addressKey, clientAddress, isLoopbackHost } from './client-address.js'
import { parseOrigins } from './origins.js'

function req(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as IncomingMessage
}

describe('address keys', () => {
  it('counts IPv4 per address and IPv6 per /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:0DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64')
  })

  it('believes X-Forwarded-For only from a trusted proxy, and only its right-most untrusted hop', () => {
    const proxies = new Set(['127.0.0.1', '10.0.0.2'])
    expect(clientAddress(req('127.0.0.1', '6.6.6.6, 198.51.100.7'), proxies)).toBe('198.51.100.7')
    expect(clientAddress(req('127.0.0.1', '198.51.100.7, 10.0.0.2'), proxies)).toBe('198.51.100.7')
    expect(clientAddress(req('127.0.0.1', '[2001:db8::5]:443'), proxies)).toBe('2001:db8:0:0::/64')
    expect(clientAddress(req('127.0.0.1'), proxies)).toBe('127.0.0.1')
    expect(clientAddress(req('192.0.2.9', '198.51.100.7'), proxies)).toBe('192.0.2.9')
  })

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true)
    expect(['0.0.0.0', '::', '192.0.2.1', 'example.org'].some(isLoopbackHost)).toBe(false)
  })

  it('parses --allow-origin values and says which one is wrong', () => {
    expect(parseOrigins(['https://World.Example.org/', 'http://a.test:8080,https://b.test:443'])).toEqual(['https://world.example.org', 'http://a.test:8080', 'https://b.test'])
    expect(() => parseOrigins(['https://a.test/page'])).toThrow(/--allow-origin https:\/\/a.test\/page: not an origin/)
    expect(() => parseOrigins(['world.example.org'])).toThrow(/not an origin/)
  })
})

describe('AddressLimits', () => {
  it('finds the biggest holder in O(1) and takes its newest socket, unauthenticated first', () => {
    const limits = new AddressLimits<{ n: number; authed: boolean }>({ maxSocketsPerAddress: 16, authsPerMinute: 60, exempt: new Set(['127.0.0.1']), maxRecords: 100 })
    const a = Array.from({ length: 5 }, (_, n) => ({ n, authed: n !== 2 }))
    for (const s of a) limits.add('A', s, 0)
    const b = { n: 10, authed: true }
    limits.add('B', b, 0)
    expect(limits.victimFor('C', (s) => !s.authed)).toBe(a[2])
    expect(limits.victimFor('C', () => false)).toBe(a[4])
    expect(limits.victimFor('B', () => false)).toBe(a[4]) // 5 >= 1 + 2
    for (const s of a.slice(0, 4)) limits.remove('A', s)
    expect(limits.victimFor('C', () => false)).toBeUndefined() // nobody holds 2
    limits.add('127.0.0.1', { n: 99, authed: true }, 0)
    expect(limits.check('127.0.0.1', 0)).toBeNull()
    expect(limits.size).toBe(2)
  })

  it('remembers an address without sockets until its authentication budget refills', () => {
    const limits = new AddressLimits<number>({ maxSocketsPerAddress: 2, authsPerMinute: 2, exempt: new Set(), maxRecords: 100 })
    limits.add('A', 1, 0)
    expect(limits.takeAuth('A', 0)).toBe(true)
    expect(limits.takeAuth('A', 0)).toBe(true)
    limits.remove('A', 1)
    limits.prune(1000)
    expect(limits.check('A', 1000)).toBe('auth-rate')
    limits.prune(60_000)
    expect(limits.size).toBe(0)
    expect(limits.check('A', 60_000)).toBeNull()
  })
})
