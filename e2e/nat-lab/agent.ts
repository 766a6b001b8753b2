/**
 * A lab agent: runs Node peers (the real Peer on @roamhq/wrtc) inside one lab
 * namespace, driven by the lab over stdin and reporting on stdout, one JSON
 * object a line each way.
 *   node --import tsx e2e/nat-lab/agent.ts --url wss://198.18.0.1/ [--ca FILE]
 * Commands: {cmd:'peer', key, world, ice: 'node' | IceServer[], x, y, watch?: peerId, anchor?: true (relays with an anchor's caps)},
 * {cmd:'tamper', key, on} (a test relay: flips one byte of every circuit frame it passes on), {cmd:'move', key, x, y},
 * {cmd:'info', key} (its links' counters, RTT and paths), {cmd:'close', key}, {cmd:'exit'}.
 * Events: {ev:'ready'}, {ev:'joined', key, id}, {ev:'dial', key, peer, initiator} (a link to `watch` exists), {ev:'link', key, peer, path, local, remote, rttMs, openMs},
 * {ev:'failed', key, peer, reason, cause, detail, triedMs}, {ev:'moved', key, x, y, t, told}, {ev:'saw', key, from, x, y, t},
 * {ev:'info', key, state, links, failures}, {ev:'log', key, level, msg, fields} (the peer's and link layer's own lines),
 * {ev:'error', key, message}. Every event has a time `t`: wall-clock ms (performance.timeOrigin + now): every process of the machine shares them.
 */
import wrtc from '@roamhq/wrtc'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { WebSocket } from 'ws'
import type { PeerId } from '../../src/core/id.js'
import { loadIdentity } from '../../src/peer/identity.js'
import { LinkMsg } from '../../src/link/link-messages.js'
import { ANCHOR_RELAY, type RelayHost } from '../../src/link/relay.js'
import { parseIceServers } from '../../src/platform/ice-servers.js'
import { startNetworkPeer, type NetworkPeer } from '../../src/platform/network-peer.js'
import { createNodeEnv } from '../../src/platform/node/node-env.js'

const { values } = parseArgs({ options: { url: { type: 'string' }, ca: { type: 'string' } } })
if (values.url === undefined) throw new Error('--url is required')
const url = values.url
const ca = values.ca === undefined ? undefined : readFileSync(values.ca)

/** `ws` trusting the lab's own certificate authority. */
class LabWebSocket extends WebSocket {
  constructor(u: string) {
    super(u, ca === undefined ? {} : { ca })
  }
}

const wall = (): number => performance.timeOrigin + performance.now()
const emit = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ t: wall(), ...o })}\n`)

interface Running {
  net: NetworkPeer
  reported: Set<PeerId>
  failures: number
  /** A peer whose link's first appearance is reported. */
  watch: PeerId | undefined
  /** Test relay: flip a byte of every circuit frame passed on (see 'tamper'). */
  tamper: boolean
  flipped: number
}
const peers = new Map<string, Running>()

async function startPeer(key: string, world: string, ice: unknown, x: number, y: number, watch: PeerId | undefined, anchor: boolean): Promise<void> {
  // The link layer's own account of links opening, closing and failing comes back as events.
  const note = (level: string) => (msg: string, fields?: Record<string, unknown>): void => {
    if (/^(link |webrtc|introduction|peer:|signaling:)/.test(msg)) emit({ ev: 'log', key, level, msg, fields, t: wall() })
  }
  const step = (msg: string, fields?: Record<string, unknown>): void => agentSays(key, msg, fields)
  step('peer starting', { world })
  const env = createNodeEnv({ log: { debug: note('debug'), info: note('info'), warn: note('warn'), error: note('error') } })
  const keyPair = await loadIdentity(env)
  step('identity loaded')
  const servers = ice === 'node' ? undefined : parseIceServers(ice)
  if (servers === null) throw new Error(`bad ice for ${key}`)
  const net = await startNetworkPeer(
    {
      env, keyPair, WebSocket: LabWebSocket, wrtc,
      listener: {
        onEnter: (id, px, py) => emit({ ev: 'saw', key, from: id, x: px, y: py, t: wall() }),
        onMove: (id, px, py) => emit({ ev: 'saw', key, from: id, x: px, y: py, t: wall() }),
        onState: (state) => {
          if (state === 'joined') emit({ ev: 'joined', key, id: net.peer.id })
        },
      },
    },
    { url, world, peer: { services: [], ...(anchor ? { link: { relay: ANCHOR_RELAY } } : {}) }, ...(servers === undefined ? {} : { ice: servers }) },
  )
  step('network peer started', { signaling: net.signaling.state })
  const running: Running = { net, reported: new Set(), failures: 0, watch, tamper: false, flipped: 0 }
  peers.set(key, running)
  // The test relay: its link layer's relay passes frames on through this host; when told, it alters them.
  const host = (net.peer.links.relays as unknown as { host: RelayHost } | undefined)?.host
  if (host !== undefined) {
    const sendLink = host.sendLink.bind(host)
    host.sendLink = (peer, type, payload, priority) => {
      if (running.tamper && type === LinkMsg.C_DOWN && Array.isArray(payload) && payload[2] instanceof Uint8Array) {
        const bytes = payload[2].slice()
        bytes[bytes.length - 1]! ^= 0x01
        payload = [payload[0], payload[1], bytes]
        if (running.flipped++ === 0) emit({ ev: 'tampered', key, peer })
      }
      return sendLink(peer, type, payload, priority)
    }
  }
  net.peer.join(x, y)
  step('join called', { state: net.peer.state, signaling: net.signaling.state })
}

/** The agent's own word on peer `key` (where its start got to, its signaling), as a log event. */
function agentSays(key: string, msg: string, fields?: Record<string, unknown>): void {
  emit({ ev: 'log', key, level: 'info', msg: `agent: ${msg}`, fields, t: wall() })
}

/** Reports links as their path becomes known, and failed attempts, every 100 ms. */
function watch(): void {
  for (const [key, r] of peers) {
    const links = r.net.peer.links
    const watched = r.watch === undefined ? undefined : links.link(r.watch)
    if (watched !== undefined) {
      emit({ ev: 'dial', key, peer: r.watch, initiator: watched.initiator })
      r.watch = undefined
    }
    for (const id of links.openPeers()) {
      const link = links.link(id)
      const path = link?.conn?.path
      if (link === undefined || path === undefined || r.reported.has(id)) continue
      r.reported.add(id)
      emit({ ev: 'link', key, peer: id, path: path.kind, local: path.local, remote: path.remote, rttMs: path.rttMs, openMs: link.openedAt - link.createdAt })
    }
    if (links.failures.total === r.failures) continue
    const fresh = links.failures.since(-Infinity).slice(-(links.failures.total - r.failures))
    r.failures = links.failures.total
    for (const f of fresh) emit({ ev: 'failed', key, peer: f.peer, reason: f.reason, cause: f.cause?.code, detail: f.cause?.detail, triedMs: f.triedMs })
  }
}
const watcher = setInterval(watch, 100)

async function handle(line: string): Promise<void> {
  const m = JSON.parse(line) as Record<string, unknown>
  const key = String(m.key)
  switch (m.cmd) {
    case 'peer':
      return startPeer(key, String(m.world), m.ice, Number(m.x), Number(m.y), typeof m.watch === 'string' ? (m.watch as PeerId) : undefined, m.anchor === true)
    case 'tamper': {
      const r = peers.get(key)
      if (r === undefined) throw new Error(`no peer ${key}`)
      r.tamper = m.on === true
      return
    }
    case 'move': {
      const r = peers.get(key)
      if (r === undefined) throw new Error(`no peer ${key}`)
      // told: a MOVE went out (dead reckoning keeps back the moves neighbours can predict).
      const told = r.net.peer.move(Number(m.x), Number(m.y))
      emit({ ev: 'moved', key, x: Number(m.x), y: Number(m.y), t: wall(), told })
      return
    }
    case 'info': {
      const links = peers.get(key)?.net.peer.links
      const sig = peers.get(key)?.net.signaling
      if (sig !== undefined) agentSays(key, 'signaling', { state: sig.state, hosts: sig.hosts.length })
      const info = links?.openPeers().map((id) => {
        const l = links.link(id)!
        return { peer: id.slice(0, 8), bytesSent: l.bytesSent, bytesReceived: l.bytesReceived, frames: l.framesReceived, rtt: links.rtt(id), path: l.conn?.path }
      })
      emit({ ev: 'info', key, state: peers.get(key)?.net.peer.state, links: info, failures: links?.failures.since(-Infinity) })
      return
    }
    case 'close':
      await peers.get(key)?.net.close()
      peers.delete(key)
      return
    case 'exit':
      clearInterval(watcher)
      await Promise.all([...peers.values()].map((r) => r.net.close()))
      process.exit(0)
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  handle(line).catch((err: unknown) => emit({ ev: 'error', key: (JSON.parse(line) as { key?: string }).key, message: (err as Error).stack ?? String(err) }))
})
process.stdin.on('end', () => process.exit(0))
emit({ ev: 'ready' })
