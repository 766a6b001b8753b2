import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../core/bytes.js'
import type { PutResult } from '../kademlia/record-ops.js'
import { PeerWorld } from '../sim/workloads/peer-world.js'
import { dhtService } from './dht-service.js'
import type { Peer } from './peer.js'
import { PLAYER_SERVICE, playerService, type PlayerService, type ResumeResult } from './player-service.js'
import { PRESENCE_SERVICE, presenceService, type PresenceService } from './presence-service.js'

const SEED = process.env.SEED ?? '41'
const msg = `SEED=${SEED}`
const playerOf = (p: Peer): PlayerService => p.service<PlayerService>(PLAYER_SERVICE)!

describe('player service (simulator)', () => {
  it('resumes from the DHT after the local copy is lost, and feeds presence', async () => {
    const w = new PeerWorld({ seed: SEED })
    const services = [dhtService(), playerService({ flushIntervalMs: 1000 }), presenceService()]
    const m = [0, 1, 2, 3, 4].map((i) => w.add(300 + (i % 3) * 50, 300 + Math.floor(i / 3) * 50, { init: { services } }))
    const me = m[2]!
    const first: ResumeResult[] = []
    playerOf(me.peer).onResumed((r) => first.push(r))
    playerOf(me.peer).update({ name: 'early' }) // before resuming: kept, applied on top
    await w.runAsync(() => first.length > 0, 20_000, 200)
    expect(first.map((r) => r.source), msg).toEqual(['new'])
    expect(playerOf(me.peer).data.name).toBe('early')
    const avatar = w.w.crypto.sha256(utf8('avatar'))
    playerOf(me.peer).update({ name: 'ada', appearance: avatar, stats: { colour: 0x3366ff, level: 3 } })
    await w.runAsync(() => false, 3000, 200)
    for (const o of m) {
      if (o === me) continue
      expect(o.peer.service<PresenceService>(PRESENCE_SERVICE)!.profileOf(me.peer.id), msg).toEqual({ name: 'ada', colour: 0x3366ff, avatar: toHex(avatar) })
    }
    let written: PutResult | null | undefined
    playerOf(me.peer).update({ x: 333 })
    playerOf(me.peer).leave((r) => (written = r))
    await w.runAsync(() => written !== undefined, 20_000, 200)
    expect(written?.stored ?? 0, msg).toBeGreaterThanOrEqual(3)
    // Lose the local copy (another device, same key), leave, and come back.
    for (const k of await me.store.keys('player-state/')) await me.store.delete(k)
    me.peer.leave()
    await w.runAsync(() => false, 3000, 500)
    me.peer.join(320, 320)
    const again: ResumeResult[] = []
    playerOf(me.peer).onResumed((r) => again.push(r))
    await w.runAsync(() => again.length > 0, 30_000, 200)
    expect(again.map((r) => [r.source, r.localSeq]), msg).toEqual([['dht', null]])
    expect(playerOf(me.peer).data).toMatchObject({ name: 'ada', x: 333, stats: { colour: 0x3366ff, level: 3 } })
    expect(me.peer.service<PresenceService>(PRESENCE_SERVICE)!.profile.name).toBe('ada')
  })
})
