import { describe, expect, it } from 'vitest'
import { commonPrefixLength, compareDistance, peerIdFromBytes, type PeerId } from '../core/id.js'
import { SeededRng } from '../sim/rng.js'
import { randomIdInBucket } from './distance.js'
import { RoutingTable } from './routing-table.js'

const SEED = Number(process.env.SEED ?? 7)

function fill(table: RoutingTable, rng: SeededRng, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = rng.bytes(32)
    table.add(peerIdFromBytes(b)!, b, i)
  }
}

describe('RoutingTable', () => {
  it('returns the n closest contacts in distance order, as a full sort would', () => {
    const rng = new SeededRng(SEED, 'rt')
    const self = rng.bytes(32)
    const table = new RoutingTable(self)
    fill(table, rng, 400)
    const all = [...table.contacts()]
    for (let t = 0; t < 200; t++) {
      const target = t % 10 === 0 ? self : rng.bytes(32)
      const n = 1 + rng.int(30)
      const exclude = all[rng.int(all.length)]!.id
      const want = all
        .filter((c) => c.id !== exclude)
        .sort((a, b) => compareDistance(target, a.bytes, b.bytes))
        .slice(0, n)
        .map((c) => c.id)
      expect(table.closest(target, n, exclude).map((c) => c.id), `SEED=${SEED}`).toEqual(want)
    }
  })

  it('holds k per bucket, keeps newcomers to a full bucket waiting, and promotes one when a contact leaves', () => {
    const rng = new SeededRng(SEED, 'rt2')
    const self = rng.bytes(32)
    const table = new RoutingTable(self, { k: 4, replacementSize: 2 })
    const inBucket0 = (): Uint8Array => randomIdInBucket(self, 0, rng)
    const ids: PeerId[] = []
    for (let i = 0; i < 7; i++) {
      const b = inBucket0()
      const id = peerIdFromBytes(b)!
      ids.push(id)
      const r = table.add(id, b, i)
      if (i < 4) expect(r.kind).toBe('added')
      else expect(r).toMatchObject({ kind: 'full', oldest: { id: ids[0] } })
    }
    expect(table.bucketSize(0)).toBe(4)
    expect(table.isWaiting(ids[4]!)).toBe(false) // pushed out of the 2-entry cache
    expect(table.isWaiting(ids[6]!)).toBe(true)
    table.touch(table.get(ids[0]!)!, 10)
    expect(table.closest(self, 10).length).toBe(4)
    expect(table.remove(ids[1]!)?.id).toBe(ids[6]) // freshest candidate first
    expect(table.has(ids[6]!)).toBe(true)
    expect(table.add(ids[0]!, new Uint8Array(32), 11).kind).toBe('updated')
  })

  it('insists on its k closest and levels the rest across buckets, within the budget', () => {
    const rng = new SeededRng(SEED, 'rt3')
    const self = rng.bytes(32)
    const table = new RoutingTable(self, { k: 20, maxInsisted: 40 })
    fill(table, rng, 3000)
    const insisted = table.insistedSet()
    expect(insisted.size).toBe(40)
    for (const c of table.closest(self, 20)) expect(insisted.has(c.id)).toBe(true)
    const perBucket = new Map<number, number>()
    for (const c of table.contacts()) if (insisted.has(c.id) && !table.isSibling(c.id)) perBucket.set(c.bucket, (perBucket.get(c.bucket) ?? 0) + 1)
    const counts = [...perBucket.values()]
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })

  it('draws random ids inside the requested bucket', () => {
    const rng = new SeededRng(SEED, 'rt4')
    const self = rng.bytes(32)
    for (let b = 0; b < 256; b++) expect(commonPrefixLength(self, randomIdInBucket(self, b, rng))).toBe(b)
  })
})
