import { expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'

/** A peer as the suite sees it: an id and its LinkManager. */
export interface SuitePeer {
  readonly id: PeerId
  readonly links: LinkManager
}

/**
 * What a transport under test provides: peers attached to a bootstrap node, a
 * way to take the node down, and time (virtual in the simulator, real for WebRTC).
 */
export interface LinkHarness {
  addPeer(): Promise<SuitePeer>
  setSignaling(up: boolean): Promise<void>
  /** Resolves once `cond` holds; rejects after `timeoutMs` of the harness's time. */
  until(cond: () => boolean, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

const T = PROTOCOL.TEST

function inbox(peer: SuitePeer, type = 1): { from: PeerId; payload: unknown }[] {
  const got: { from: PeerId; payload: unknown }[] = []
  peer.links.handle(T, type, (from, payload) => got.push({ from, payload }))
  return got
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff
  return out
}

/**
 * One suite for every Transport (seed's js-libp2p practice): the same link-layer
 * behaviour over the simulated network and over real WebRTC.
 */
export function linkSuite(make: () => Promise<LinkHarness>): void {
  const withHarness = (fn: (h: LinkHarness) => Promise<void>) => async () => {
    const h = await make()
    try {
      await fn(h)
    } finally {
      await h.close()
    }
  }

  it('opens a link through the bootstrap node and carries all three priorities, one message fragmented', withHarness(async (h) => {
    const a = await h.addPeer()
    const b = await h.addPeer()
    const got = inbox(b)
    const back = inbox(a, 2)
    const big = pattern(200_000)
    expect(a.links.connect(b.id)).toBe('connecting')
    a.links.send(b.id, T, 1, { cls: 'low', big }, Priority.LOW)
    a.links.send(b.id, T, 1, { cls: 'medium' }, Priority.MEDIUM)
    a.links.send(b.id, T, 1, { cls: 'high' }, Priority.HIGH)
    await h.until(() => got.length === 3)
    // Queued before the link opened, MEDIUM has outwaited the aging bound and may go
    // first; LOW goes only when nothing else waits.
    expect(got.map((m) => (m.payload as { cls: string }).cls).sort()).toEqual(['high', 'low', 'medium'])
    expect((got[2]!.payload as { cls: string }).cls).toBe('low')
    expect(got.every((m) => m.from === a.id)).toBe(true)
    expect((got[2]!.payload as { big: Uint8Array }).big).toEqual(big)
    expect(a.links.isOpen(b.id) && b.links.isOpen(a.id)).toBe(true)
    expect(a.links.stats.viaSignaling).toBe(1)
    b.links.send(a.id, T, 2, 'reply', Priority.HIGH)
    await h.until(() => back.length === 1)
    expect(back[0]).toEqual({ from: b.id, payload: 'reply' })
  }))

  it('introduces a third peer through a linked peer while the bootstrap node is down', withHarness(async (h) => {
    const [a, hub, c] = [await h.addPeer(), await h.addPeer(), await h.addPeer()]
    a.links.connect(hub.id)
    c.links.connect(hub.id)
    await h.until(() => a.links.isOpen(hub.id) && c.links.isOpen(hub.id))
    await h.setSignaling(false)
    const got = inbox(c)
    expect(a.links.connect(c.id, { via: hub.id })).toBe('connecting')
    a.links.send(c.id, T, 1, 'through an introduction', Priority.HIGH)
    await h.until(() => got.length === 1)
    expect(got[0]).toEqual({ from: a.id, payload: 'through an introduction' })
    expect(a.links.stats.introduced).toBe(1)
    expect(c.links.stats.introduced).toBe(1)
    expect(hub.links.stats.relayed).toBeGreaterThanOrEqual(2)
  }))

  it('resolves glare (both sides dial at once) into one working link', withHarness(async (h) => {
    const [a, hub, c] = [await h.addPeer(), await h.addPeer(), await h.addPeer()]
    a.links.connect(hub.id)
    c.links.connect(hub.id)
    await h.until(() => a.links.isOpen(hub.id) && c.links.isOpen(hub.id))
    a.links.connect(c.id, { via: hub.id })
    c.links.connect(a.id, { via: hub.id })
    await h.until(() => a.links.isOpen(c.id) && c.links.isOpen(a.id))
    const got = inbox(a)
    c.links.send(a.id, T, 1, 'after glare', Priority.HIGH)
    await h.until(() => got.length === 1)
    expect(a.links.linkCount).toBe(2)
    expect(c.links.linkCount).toBe(2)
  }))

  it('tells the remote when a peer shuts its links down', withHarness(async (h) => {
    const a = await h.addPeer()
    const b = await h.addPeer()
    const closed: string[] = []
    b.links.register({ id: T, onLinkClosed: (peer, reason) => closed.push(`${peer === a.id}:${reason}`) })
    a.links.connect(b.id)
    await h.until(() => b.links.isOpen(a.id))
    a.links.close()
    await h.until(() => closed.length === 1)
    expect(closed).toEqual(['true:remote-closed'])
    expect(b.links.linkCount).toBe(0)
  }))

  it('measures the round-trip time of a link a protocol insists on, both ways', withHarness(async (h) => {
    const a = await h.addPeer()
    const b = await h.addPeer()
    for (const p of [a, b]) p.links.register({ id: T, insists: () => true })
    a.links.connect(b.id)
    await h.until(() => a.links.rtt(b.id) !== undefined && b.links.rtt(a.id) !== undefined, 5000)
    for (const s of [a.links.rtt(b.id)!, b.links.rtt(a.id)!]) {
      expect(s.srttMs).toBeGreaterThanOrEqual(0)
      expect(s.srttMs).toBeLessThan(1000)
      expect(s.lost).toBe(0)
    }
    expect(a.links.insisting(b.id)).toEqual([T])
  }))
}
