import { idToBytes, type PeerId } from '../../core/id.js'
import { CircuitAuth } from '../../link/circuit-auth.js'
import { LinkMsg } from '../../link/link-messages.js'
import { RelayLayer, resolveRelayInit, type CircuitConnection, type RelayHost } from '../../link/relay.js'
import { fuzzCase, need, type FuzzTarget } from '../target.js'
import { circuitKeys } from './circuit.js'

type RelayIn = { from: PeerId; type: number; payload: unknown }
type RelayOut = { ok: boolean; before: string; after: string }

const QUIET = { debug() {}, info() {}, warn() {}, error() {} }
const MAX_CIRCUITS = 16
const MAX_RESERVATIONS = 8

/**
 * The relay frames (link messages 6..13) through RelayLayer.onFrame, relay.ts
 * left as it is: a layer that relays (with a reservation held by T and a
 * circuit A -> T through it) and has a home relay R (which announces circuits
 * from S), fed valid and mutated frames from each of them. A frame it calls
 * malformed (false) must leave it as it was and send nothing.
 */
export const relayTarget: FuzzTarget = {
  name: 'relay',
  what: 'src/link/relay.ts RelayLayer.onFrame (RESERVE .. C_END_DOWN)',
  create(gen) {
    const r = gen.r
    const self = circuitKeys(r, 10)
    const [R, S, A, T] = [11, 12, 13, 14].map((i) => circuitKeys(r, i).localId) as [PeerId, PeerId, PeerId, PeerId]
    const sKeys = circuitKeys(r, 12)
    let now = 0
    let sent = 0
    const circuits = new Set<CircuitConnection>()
    const host: RelayHost = {
      log: QUIET,
      now: () => now,
      sendLink: () => {
        sent++
        return true
      },
      queuedTo: () => 0,
      isOpen: () => true,
      connect: () => {},
      acceptCircuit: (conn) => {
        if (circuits.size >= 8) return false // as a link manager at its link cap
        circuits.add(conn)
        conn.attach({ onSignal() {}, onOpen() {}, onData() {}, onDrain() {}, onClose: () => void circuits.delete(conn) })
        return true
      },
      volunteers: () => [{ id: R, rttMs: 20, load: 0.1, held: true }],
      held: () => true,
      homesChanged: () => {},
      rttMs: () => 20,
    }
    const init = resolveRelayInit({ maxCircuits: MAX_CIRCUITS, maxCircuitsPerPeer: 4, maxReservations: MAX_RESERVATIONS })
    const layer = new RelayLayer(host, self, init, undefined)
    layer.relaying = true
    layer.homesWanted = 1
    layer.tick(now)
    layer.onFrame(R, LinkMsg.RESERVED, [1, 1, 128])
    layer.onFrame(T, LinkMsg.RESERVE, 1)
    // HELLOs of S opening circuits to us: each X25519 key costs a millisecond, so a few are made once.
    const hellos = Array.from({ length: 4 }, () => new CircuitAuth(sKeys, self.localId, true).hello())
    const peers = [R, S, A, T]
    // Rarer than the rest: each one that reaches the HELLO costs an X25519 key pair (a millisecond).
    const incoming = (): RelayIn => ({ from: R, type: LinkMsg.C_INCOMING, payload: [cid(), idToBytes(S), r.pick(hellos)] })
    const cid = (): number => (r.chance(0.8) ? r.int(8) : r.pick([0, 2 ** 32 - 1, 2 ** 32]))
    const bytes = (): Uint8Array => r.bytes(r.size(1024))
    const seeds: (() => RelayIn)[] = [
      () => ({ from: r.pick([T, A]), type: LinkMsg.RESERVE, payload: r.int(2) }),
      () => ({ from: R, type: LinkMsg.RESERVED, payload: [r.int(2), r.int(128), 128] }),
      () => ({ from: A, type: LinkMsg.C_OPEN, payload: [cid(), idToBytes(T), r.bytes(129)] }),
      () => ({ from: r.pick([A, T]), type: LinkMsg.C_UP, payload: [r.int(2), cid(), r.int(3), bytes()] }),
      () => ({ from: R, type: LinkMsg.C_DOWN, payload: [r.int(2), cid(), bytes()] }),
      () => ({ from: r.pick([A, T]), type: LinkMsg.C_END_UP, payload: [r.int(2), cid(), 'closed'] }),
      () => ({ from: R, type: LinkMsg.C_END_DOWN, payload: [r.int(2), cid(), r.pick(['relay-full', 'peer-gone'])] }),
    ]
    /** What the layer shows of its state, and what it sent, as one string. */
    const snapshot = (): string => {
      let s = `${Object.values(layer.stats).join(',')};${layer.homeRelays().join(',')};${circuits.size};${sent}`
      for (const p of peers) s += layer.insists(p) ? '1' : '0'
      return s + (layer.carriesVia(R) ? '1' : '0')
    }
    let frames = 0
    return fuzzCase<RelayIn, RelayOut>({
      next: () => {
        // Time passes and the layer ticks, as in a link manager, between frames (never inside one's check).
        now += r.int(50)
        if (++frames % 500 === 0) layer.tick(now)
        const seed = r.chance(0.03) ? incoming() : r.pick(seeds)()
        const from = r.chance(0.9) ? seed.from : r.pick(peers)
        const type = r.chance(0.9) ? seed.type : r.chance(0.8) ? r.range(LinkMsg.RESERVE, LinkMsg.C_END_DOWN) : r.int(256)
        return { from, type, payload: gen.payload(() => seed.payload) }
      },
      run: ({ from, type, payload }) => {
        const before = snapshot()
        const ok = layer.onFrame(from, type, payload)
        return { ok, before, after: snapshot() }
      },
      accepted: (out) => out.ok,
      check: (_input, { ok, before, after }) => {
        const s = layer.stats
        need(s.circuitsNow >= 0 && s.circuitsNow <= MAX_CIRCUITS, `circuits relayed within 0..${MAX_CIRCUITS}`)
        need(s.reservationsNow <= MAX_RESERVATIONS, `reservations within ${MAX_RESERVATIONS}`)
        if (!ok) need(before === after, 'a frame called malformed changed the relay layer or sent something')
      },
    })
  },
}
