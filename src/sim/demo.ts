/**
 * `npm run demo`: a small simulated world on the real link
 * layer. Peers join through the bootstrap node, then open every further link by
 * introduction through a linked peer; moves go HIGH to peers in range, a roster
 * MEDIUM, an avatar-sized transfer LOW; link GC closes links nobody insists on;
 * at t = 40 s the bootstrap node goes down and the world carries on.
 *
 * A hub roster stands in for the VON overlay here (issue 3 replaces it).
 *   npm run demo -- [--peers 24] [--seconds 60] [--seed 7]
 */
import { isFiniteNumber } from '../core/codec.js'
import { parsePeerId, type PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { percentile } from './stats.js'
import { SimWorld, type SimLinkPeer } from './world.js'

const MSG = { POS: 1, ROSTER: 2, MOVE: 3, ASSET: 4 } as const
const AOI = 250
const WORLD = 1000

function main(argv: string[]): void {
  const arg = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? Number(argv[i + 1]) : dflt
  }
  const peerCount = arg('peers', 24)
  const seconds = arg('seconds', 60)
  const seed = arg('seed', 7)
  const world = new SimWorld({ seed, network: { jitterMs: 5, lossRate: 0.005 }, link: { gcThreshold: 6, gcIdleMs: 5000 } })
  const rng = world.sim.rng('demo')
  const pos = new Map<PeerId, { x: number; y: number; dx: number; dy: number }>()
  const latencies: number[] = []
  let assetBytes = 0
  const hub = (): SimLinkPeer => world.peers[0]!

  const spawn = (i: number): void => {
    const p = world.addPeer({
      x: rng.next() * 100,
      y: rng.next() * 100,
      accessMs: 5 + rng.next() * 15,
      upBytesPerSec: 60_000 + rng.int(500_000),
      downBytesPerSec: 0,
    })
    pos.set(p.id, { x: rng.next() * WORLD, y: rng.next() * WORLD, dx: rng.next() * 2 - 1, dy: rng.next() * 2 - 1 })
    const near = (other: PeerId): boolean => distance(pos, p.id, other) <= AOI
    p.links.register({ id: PROTOCOL.TEST, insists: (peer) => peer === hub().id || near(peer) })
    p.links.handle(PROTOCOL.TEST, MSG.MOVE, (_from, m) => {
      if (Array.isArray(m) && isFiniteNumber(m[0])) latencies.push(world.sim.now - m[0])
    })
    p.links.handle(PROTOCOL.TEST, MSG.ASSET, (_from, m) => {
      if (m instanceof Uint8Array) assetBytes += m.length
    })
    p.links.handle(PROTOCOL.TEST, MSG.ROSTER, (from, m) => {
      if (from !== hub().id || !Array.isArray(m)) return
      for (const entry of m.slice(0, 256)) {
        const id = Array.isArray(entry) ? parsePeerId(entry[0]) : null
        if (id !== null && id !== p.id && near(id)) p.links.connect(id, { via: from })
      }
    })
    if (i === 0) {
      p.links.handle(PROTOCOL.TEST, MSG.POS, () => {})
    } else {
      world.sim.after(0, () => p.links.connect(hub().id))
    }
    every(p, 100, () => {
      const me = pos.get(p.id)!
      me.x = clamp(me.x + me.dx * 4)
      me.y = clamp(me.y + me.dy * 4)
      if (me.x <= 0 || me.x >= WORLD) me.dx = -me.dx
      if (me.y <= 0 || me.y >= WORLD) me.dy = -me.dy
      for (const peer of p.links.openPeers()) {
        if (near(peer)) p.links.send(peer, PROTOCOL.TEST, MSG.MOVE, [world.sim.now, me.x, me.y], Priority.HIGH, { key: 'move' })
      }
    })
    if (i === 0) {
      every(p, 1000, () => {
        const roster = world.peers.filter((q) => q.env.alive).map((q) => [q.id])
        for (const peer of p.links.openPeers()) p.links.send(peer, PROTOCOL.TEST, MSG.ROSTER, roster, Priority.MEDIUM)
      })
    }
  }

  for (let i = 0; i < peerCount; i++) world.sim.at(i * 400, () => spawn(i))
  world.sim.at(20_000, () => {
    const sender = world.peers[1]
    if (sender === undefined) return
    for (const peer of sender.links.openPeers()) {
      for (let k = 0; k < 64; k++) sender.links.send(peer, PROTOCOL.TEST, MSG.ASSET, new Uint8Array(16_384), Priority.LOW)
    }
  })
  world.sim.at(40_000, () => (world.signaling.up = false))

  console.log(`simulated world: ${peerCount} peers, seed ${seed}, AOI ${AOI} in a ${WORLD} x ${WORLD} world`)
  console.log('  t s | links | introduced | via signaling | GC closed | moves | p50 ms | p99 ms | asset kB | signaling')
  let shown = 0
  for (let t = 5; t <= seconds; t += 5) {
    world.sim.runUntil(t * 1000)
    const s = world.peers.reduce(
      (acc, p) => {
        acc.links += p.links.linkCount
        acc.intro += p.links.stats.introduced
        acc.sig += p.links.stats.viaSignaling
        acc.gc += p.links.stats.gcClosed
        return acc
      },
      { links: 0, intro: 0, sig: 0, gc: 0 },
    )
    const window = latencies.splice(0).sort((a, b) => a - b)
    shown += window.length
    console.log(
      `${String(t).padStart(5)} | ${String(Math.round(s.links / 2)).padStart(5)} | ${String(s.intro).padStart(10)} | ` +
        `${String(s.sig).padStart(13)} | ${String(s.gc).padStart(9)} | ${String(window.length).padStart(5)} | ` +
        `${fmt(percentile(window, 0.5))} | ${fmt(percentile(window, 0.99))} | ${String(Math.round(assetBytes / 1000)).padStart(8)} | ` +
        `${world.signaling.up ? 'up' : 'DOWN'}`,
    )
  }
  console.log(`${shown} moves delivered; ${world.sim.eventsRun} events; trace ${world.sim.traceHash}`)
}

function every(peer: SimLinkPeer, periodMs: number, fn: () => void): void {
  const tick = (): void => {
    fn()
    peer.env.timers.setTimeout(tick, periodMs)
  }
  peer.env.timers.setTimeout(tick, peer.env.rng.next() * periodMs)
}

function distance(pos: Map<PeerId, { x: number; y: number }>, a: PeerId, b: PeerId): number {
  const pa = pos.get(a)
  const pb = pos.get(b)
  return pa === undefined || pb === undefined ? Infinity : Math.hypot(pa.x - pb.x, pa.y - pb.y)
}

const clamp = (v: number): number => Math.max(0, Math.min(WORLD, v))
const fmt = (v: number): string => (Number.isNaN(v) ? '     -' : v.toFixed(1).padStart(6))

main(process.argv.slice(2))
