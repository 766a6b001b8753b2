import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { ChatMsg } from '../services/chat/chat.js'
import { PresenceMsg } from '../services/presence/profile.js'
import { SlidingWindowLimiter, sanitizeText } from '../services/rate-limit.js'
import { PeerWorld } from '../sim/workloads/peer-world.js'
import { CHAT_SERVICE, chatService, type ChatMessage, type ChatService } from './chat-service.js'
import { PRESENCE_SERVICE, presenceService, type PresenceService } from './presence-service.js'
import type { Peer } from './peer.js'

const SEED = process.env.SEED ?? '21'
const msg = `SEED=${SEED}`
const presenceOf = (p: Peer): PresenceService => p.service<PresenceService>(PRESENCE_SERVICE)!
const chatOf = (p: Peer): ChatService => p.service<ChatService>(CHAT_SERVICE)!

describe('text hygiene', () => {
  it('sanitizes names and messages and limits rates per sender', () => {
    expect(sanitizeText('  Ada\u202e\u0000 \n Lovelace\u200b ', 32)).toBe('Ada Lovelace')
    expect(sanitizeText('😀'.repeat(20), 5)).toBe('😀😀')
    const lim = new SlidingWindowLimiter<string>(2, 1000, 2)
    expect([lim.allow('a', 0), lim.allow('a', 10), lim.allow('a', 20), lim.allow('a', 1005)]).toEqual([true, true, false, true])
  })
})

describe('presence (simulator)', () => {
  it('reaches every neighbour on entry, and every neighbour again on change', () => {
    const world = new PeerWorld({ seed: SEED })
    const peers = [0, 1, 2, 3, 4].map((i) => world.add(100 + (i % 3) * 40, 100 + Math.floor(i / 3) * 40, { init: { services: [presenceService()] } }).peer)
    world.sim.runUntil(6000)
    for (const p of peers) {
      for (const n of p.von.table.keys()) expect(presenceOf(p).profileOf(n), msg).toEqual(presenceOf(peers.find((q) => q.id === n)!).profile)
      expect(p.von.table.size, msg).toBe(4)
    }
    const heard: [PeerId, string][] = []
    for (const p of peers.slice(1)) presenceOf(p).onProfile((id, prof) => heard.push([id, prof.name]))
    const a = peers[0]!
    presenceOf(a).setProfile({ name: ' Ada\u202e\u0007 ', colour: 0xff8800, avatar: 'ab'.repeat(32) })
    world.sim.runUntil(world.sim.now + 1000)
    expect(heard, msg).toEqual(peers.slice(1).map(() => [a.id, 'Ada']))
    for (const p of peers.slice(1)) expect(presenceOf(p).profileOf(a.id)).toEqual({ name: 'Ada', colour: 0xff8800, avatar: 'ab'.repeat(32) })
    // A newcomer hears Ada's current profile when it enters, and she hears its.
    const late = world.add(150, 150, { init: { services: [presenceService({ initial: { name: 'bob' } })] } }).peer
    world.sim.runUntil(world.sim.now + 5000)
    expect(presenceOf(late).profileOf(a.id)?.name, msg).toBe('Ada')
    expect(presenceOf(a).profileOf(late.id)?.name, msg).toBe('bob')
  })

  it('drops malformed and too frequent profiles', () => {
    const world = new PeerWorld({ seed: SEED })
    const [a, b] = [world.add(100, 100, { init: { services: [presenceService()] } }), world.add(140, 100, { init: { services: [presenceService()] } })].map((m) => m.peer) as [Peer, Peer]
    world.sim.runUntil(4000)
    const before = presenceOf(a).stats.received
    for (const bad of [null, ['x'.repeat(200), 1, null, 0], ['n', -1, null, 0], ['n', 1, new Uint8Array(31), 0], ['n', 1, null, 2]]) {
      b.links.send(a.id, PROTOCOL.PRESENCE, PresenceMsg.PROFILE, bad, Priority.MEDIUM)
    }
    for (let i = 0; i < 10; i++) b.links.send(a.id, PROTOCOL.PRESENCE, PresenceMsg.PROFILE, [`spam${i}`, 1, null, 0], Priority.MEDIUM)
    world.sim.runUntil(world.sim.now + 500)
    const s = presenceOf(a).stats
    expect(s.invalid).toBe(5)
    expect(s.received - before + s.rateLimited).toBe(10)
    expect(s.rateLimited, msg).toBeGreaterThanOrEqual(5)
    // The newest of the dropped ones is not lost: it is applied once the window allows.
    const received = s.received
    world.sim.runUntil(world.sim.now + 6000)
    expect(presenceOf(a).stats.received).toBe(received + 1)
    expect(presenceOf(a).profileOf(b.id)?.name, msg).toBe('spam9')
  })
})

describe('chat (simulator)', () => {
  it('reaches the neighbours inside the AOI only, echoes locally, and limits each sender', () => {
    const world = new PeerWorld({ seed: SEED })
    const spots: [number, number][] = [[300, 300], [350, 300], [300, 380], [465, 300], [700, 300]]
    const peers = spots.map(([x, y]) => world.add(x, y, { init: { services: [chatService()] } }).peer)
    world.sim.runUntil(8000)
    const [a, b, c, far] = peers as [Peer, Peer, Peer, Peer]
    expect(a.von.table.has(far.id), `${msg}: the far peer (in the buffer zone) must be a neighbour outside the AOI`).toBe(true)
    const got = new Map<Peer, ChatMessage[]>(peers.map((p) => [p, []]))
    for (const p of peers) chatOf(p).onMessage((m) => got.get(p)!.push(m))
    const r = chatOf(a).say('  hello\u202e world ')
    expect(r).toMatchObject({ ok: true, recipients: 2 })
    world.sim.runUntil(world.sim.now + 500)
    expect(got.get(a)!.map((m) => [m.from, m.text])).toEqual([[a.id, 'hello world']])
    expect(got.get(b)!.map((m) => [m.from, m.text])).toEqual([[a.id, 'hello world']])
    expect(got.get(c)!.map((m) => m.text)).toEqual(['hello world'])
    expect(got.get(far)!).toEqual([])
    expect(chatOf(a).say('x'.repeat(281))).toEqual({ ok: false, reason: 'too-long' })
    expect(chatOf(a).say(' \u200b ')).toEqual({ ok: false, reason: 'empty' })
    // Our own limit matches the receivers': 5 in 5 s (one said above).
    expect([1, 2, 3, 4, 5].map((i) => chatOf(a).say(`m${i}`).ok)).toEqual([true, true, true, true, false])
    // A flooding neighbour: b bypasses its own limit; a keeps 5 of 12, drops the rest.
    world.sim.runUntil(world.sim.now + 6000)
    got.get(a)!.length = 0
    for (let i = 0; i < 12; i++) b.links.send(a.id, PROTOCOL.CHAT, ChatMsg.SAY, `flood ${i}`, Priority.HIGH)
    b.links.send(a.id, PROTOCOL.CHAT, ChatMsg.SAY, 42, Priority.HIGH)
    world.sim.runUntil(world.sim.now + 500)
    expect(got.get(a)!.map((m) => m.text)).toEqual([0, 1, 2, 3, 4].map((i) => `flood ${i}`))
    expect(chatOf(a).stats).toMatchObject({ rateLimited: 7, invalid: 1 })
    expect(chatOf(a).recent().length).toBeGreaterThan(5)
  })
})
