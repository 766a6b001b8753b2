import { describe, expect, it } from 'vitest'
import { SeededRng } from '../src/sim/rng.js'
import { pickHosts } from './host-cache.js'
import { Room } from './room.js'

interface M {
  name: string
  address: string
  sybil?: boolean
}

const SEED = process.env.SEED ?? 'host-cache'

function world(honest: number, sybils: number, sybilAddress: (i: number) => string): { room: Room<M>; members: M[] } {
  const room = new Room<M>()
  const members: M[] = []
  for (let i = 0; i < honest; i++) members.push({ name: `h${i}`, address: `10.0.${i >> 8}.${i & 255}` })
  for (let i = 0; i < sybils; i++) members.push({ name: `s${i}`, address: sybilAddress(i), sybil: true })
  for (const m of members) room.add(m)
  return { room, members }
}

function pick(room: Room<M>, except: M, rng: SeededRng, size = 8): M[] {
  return pickHosts(room, { size, except, recentShare: 0.25, maxPerAddress: 2, addressOf: (m) => m.address, random: () => rng.next() })
}

describe(`host cache (SEED=${SEED})`, () => {
  it.each([
    ['one address', () => '192.0.2.1'],
    ['100 addresses', (i: number) => `192.0.2.${i + 1}`],
  ])('20 honest peers, then 100 Sybils (%s): never more than 2 of 8 hosts in 10,000 joins', (_name, sybilAddress) => {
    const rng = new SeededRng(SEED)
    const { room } = world(20, 100, sybilAddress)
    let worst = 0
    let total = 0
    for (let j = 0; j < 10_000; j++) {
      const joiner = { name: `j${j}`, address: `198.51.100.${j & 255}` }
      room.add(joiner)
      const hosts = pick(room, joiner, rng)
      room.delete(joiner)
      expect(hosts).toHaveLength(8)
      expect(new Set(hosts).size).toBe(8)
      const bad = hosts.filter((m) => m.sybil === true).length
      worst = Math.max(worst, bad)
      total += bad
    }
    expect(worst).toBeLessThanOrEqual(2)
    expect(total / 10_000).toBeLessThanOrEqual(2)
  })

  it('lists anchors first, spreads the rest over the oldest, caps hosts per address and never lists the joiner', () => {
    const rng = new SeededRng(SEED, 'anchors')
    const room = new Room<M>()
    for (let i = 0; i < 50; i++) room.add({ name: `old${i}`, address: i < 10 ? '203.0.113.1' : `203.0.113.${i}` })
    const anchor = { name: 'anchor', address: '127.0.0.1' }
    room.add(anchor)
    room.markAnchor(anchor)
    const seen = new Map<string, number>()
    for (let j = 0; j < 1000; j++) {
      const joiner = { name: 'j', address: '198.51.100.1' }
      room.add(joiner)
      const hosts = pick(room, joiner, rng)
      room.delete(joiner)
      expect(hosts).toContain(anchor)
      expect(hosts).not.toContain(joiner)
      expect(hosts.filter((m) => m.address === '203.0.113.1').length).toBeLessThanOrEqual(2)
      for (const m of hosts) seen.set(m.name, (seen.get(m.name) ?? 0) + 1)
    }
    // Not always the same handful: the oldest 16 and the newer ones all come up.
    expect(seen.size).toBeGreaterThan(40)
  })

  it('hands out everyone in a small world, and the last member gets none', () => {
    const rng = new SeededRng(SEED, 'small')
    const { room, members } = world(5, 0, () => '')
    expect(new Set(pick(room, members[0]!, rng).map((m) => m.name))).toEqual(new Set(['h1', 'h2', 'h3', 'h4']))
    const alone = new Room<M>()
    alone.add(members[0]!)
    expect(pick(alone, members[0]!, rng)).toEqual([])
  })

  it('costs microseconds in a world of 10,000', () => {
    const rng = new SeededRng(SEED, 'cost')
    const { room, members } = world(10_000, 0, () => '')
    const t0 = performance.now()
    for (let j = 0; j < 10_000; j++) pick(room, members[j]!, rng)
    const us = ((performance.now() - t0) * 1000) / 10_000
    console.log(`host cache from a world of 10,000: ${us.toFixed(1)} us per join`)
    expect(us).toBeLessThan(500)
  })
})
