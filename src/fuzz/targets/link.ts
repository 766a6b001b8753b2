import { MAX_MESSAGE_BYTES, decodeFrame, encodeFrame } from '../../core/codec.js'
import type { PeerId } from '../../core/id.js'
import { LINK_PROTO, LinkMsg } from '../../link/link-messages.js'
import { NAT_CLASSES, encodeReach, parseReach } from '../../link/nat.js'
import { Link } from '../../link/link.js'
import { Priority } from '../../link/priority.js'
import { MAX_PIECES, Reassembler } from '../../link/reassembler.js'
import { onRttFrame } from '../../link/rtt.js'
import { MAX_ROUTE_HOPS, decodeNoRoute, decodeSignalRelay, encodeNoRoute, encodeSignalRelay } from '../../link/signal-relay.js'
import { isHexId, needRoundTrip } from '../bounds.js'
import type { Gen } from '../gen.js'
import { anyFrame, peerId, signalData } from '../seeds.js'
import { fuzzCase, need, valueTarget, type FuzzTarget } from '../target.js'
import { FakeCrypto } from '../fake-crypto.js'

const keyPair = new FakeCrypto().keyPairFromSeed(new Uint8Array(32).fill(9))

/** The receiver and the peer its link leads to, for SIGNAL frames whose ids are implied (nil). */
const HERE = '11'.repeat(32) as PeerId
const LINK_PEER = '22'.repeat(32) as PeerId

function signalRelaySeed(gen: Gen): () => unknown {
  return () => {
    const r = gen.r
    const route = r.chance(0.3) ? Array.from({ length: r.chance(0.1) ? MAX_ROUTE_HOPS : r.range(2, 4) }, () => peerId(r)) : []
    // Either id may be implied: the origin's own (from) and the last hop's (to).
    const to = route.length === 0 && r.chance(0.3) ? null : peerId(r)
    return decodeFrame(encodeSignalRelay(to, r.chance(0.3) ? null : peerId(r), r.chance(0.5), signalData(r), route))!.payload
  }
}

type FragOut = { before: number; after: number; payload: unknown; whole: Uint8Array | undefined | null }

/** A FRAG payload the reassembler must take: a class, a last flag and bytes. */
function isFragment(p: unknown): p is [number, number, Uint8Array] {
  return Array.isArray(p) && p.length === 3 && [0, 1, 2].includes(p[0]) && (p[1] === 0 || p[1] === 1) && p[2] instanceof Uint8Array && p[2].length <= MAX_MESSAGE_BYTES
}

/**
 * The FRAG path of a link (LinkManager.onData): decodeFrame, the link's
 * reassembler, and decodeFrame again on a whole message. Valid fragments of
 * messages in HIGH and MEDIUM interleave with mutated ones; LOW gets, now and
 * then, a flood of empty and one-byte pieces that never end. A model counts
 * the pieces the reassembler holds from what it answers: they stay within
 * MAX_PIECES, and a malformed fragment changes nothing.
 */
function reassemblerTarget(): FuzzTarget {
  return {
    name: 'reassembler',
    what: 'decodeFrame(FRAG) -> src/link/reassembler.ts Reassembler.push -> decodeFrame',
    create(gen) {
      const r = gen.r
      const re = new Reassembler()
      const queued: Uint8Array[][] = [[], []]
      const held = [0, 0, 0]
      let flood = 0
      /** The next valid fragment of class `cls`, cutting a new message when the last one is all sent. */
      const fragment = (cls: number): unknown[] => {
        if (queued[cls]!.length === 0) {
          const message = r.chance(0.02) ? new Uint8Array(MAX_MESSAGE_BYTES + r.range(-1, 1)) : encodeFrame(...anyFrame(r, keyPair)).slice()
          // In at most about MAX_PIECES pieces (a few more now and then, to cross the bound).
          const size = r.chance(0.5) ? Math.max(r.range(1, 1163), Math.ceil(message.length / 1100)) : r.pick([1163, 4652, 16_384, 100_000])
          for (let at = 0; at < message.length || at === 0; at += size) queued[cls]!.push(message.subarray(at, at + size))
        }
        const piece = queued[cls]!.shift()!
        return [cls, queued[cls]!.length === 0 ? 1 : 0, piece]
      }
      const seed = (): [number, number, unknown] => [LINK_PROTO, LinkMsg.FRAG, fragment(r.int(2))]
      const trickle = (): Uint8Array => encodeFrame(LINK_PROTO, LinkMsg.FRAG, [2, 0, r.bytes(r.int(2))]).slice()
      return fuzzCase<Uint8Array, FragOut>({
        next: () => {
          if (flood === 0 && r.chance(0.0002)) flood = MAX_PIECES + 500
          if (flood > 0) {
            flood--
            return trickle()
          }
          return r.chance(0.05) ? trickle() : r.chance(0.4) ? encodeFrame(...seed()).slice() : gen.bytes(seed)
        },
        run: (input) => {
          const before = re.pendingBytes
          const frame = decodeFrame(input)
          let whole: Uint8Array | undefined | null = null
          const isFrag = frame !== null && frame.proto === LINK_PROTO && frame.type === LinkMsg.FRAG
          if (isFrag) {
            whole = re.push(frame.payload)
            if (whole instanceof Uint8Array) decodeFrame(whole)
          }
          return { before, after: re.pendingBytes, payload: isFrag ? frame.payload : undefined, whole }
        },
        accepted: (out) => out.whole !== null,
        check: (_input, { before, after, payload, whole }) => {
          if (!isFragment(payload)) return need(whole === null && after === before, 'a malformed fragment changed the reassembler')
          const cls = payload[0]
          held[cls] = whole === undefined ? held[cls]! + 1 : 0
          need(held[cls]! <= MAX_PIECES, `more than ${MAX_PIECES} pieces held for one message`)
          need(after <= 3 * MAX_MESSAGE_BYTES && after <= before + payload[2].length, 'at most one partial message per class held')
          if (whole instanceof Uint8Array) need(whole.length <= MAX_MESSAGE_BYTES, `a whole message of at most ${MAX_MESSAGE_BYTES} bytes`)
        },
      })
    },
  }
}

type RttIn = { type: number; payload: unknown }

/**
 * PROBE and ECHO (rtt.ts onRttFrame) on a link whose transport is not writable,
 * so every echo waits in its HIGH queue: a peer flooding probes gets one echo
 * at a time, and a malformed frame queues nothing and measures nothing.
 */
function rttTarget(): FuzzTarget {
  return {
    name: 'rtt',
    what: 'src/link/rtt.ts onRttFrame (PROBE, ECHO)',
    create(gen) {
      const r = gen.r
      const link = new Link(peerId(r), true, 0, {}, {})
      let now = 0
      let probe = 0
      const seed = (): RttIn => (r.chance(0.5) ? { type: LinkMsg.PROBE, payload: [r.chance(0.2) ? 2 ** 32 - 1 : r.u32(), r.int(2)] } : { type: LinkMsg.ECHO, payload: r.chance(0.5) ? probe : r.u32() })
      const stats = (): string => JSON.stringify([link.rtt.stats() ?? null, link.scheduler.length(Priority.HIGH)])
      return fuzzCase<RttIn, { verdict: string; before: string }>({
        next: () => {
          now += r.int(100)
          if (r.chance(0.05)) probe = link.rtt.startProbe(now)
          const s = seed()
          return { type: r.chance(0.95) ? s.type : r.pick([LinkMsg.PROBE, LinkMsg.ECHO]), payload: gen.payload(() => s.payload) }
        },
        run: ({ type, payload }) => {
          const before = stats()
          return { verdict: onRttFrame(link, type, payload, now), before }
        },
        accepted: (out) => out.verdict !== 'bad',
        check: (_input, { verdict, before }) => {
          need(['ok', 'want', 'bad'].includes(verdict), 'ok, want or bad')
          need(link.scheduler.length(Priority.HIGH) <= 1, 'one echo waiting at most, however many probes came')
          if (verdict === 'bad') need(stats() === before, 'a malformed probe or echo changed the link')
        },
      })
    },
  }
}

export const linkTargets: FuzzTarget[] = [
  valueTarget('signal-relay', 'src/link/signal-relay.ts decodeSignalRelay', signalRelaySeed, (p) => decodeSignalRelay(p, HERE, LINK_PEER), (s) => {
    need(isHexId(s.to) && isHexId(s.from), 'valid ids')
    need(s.route.length === 0 || (s.route.length >= 2 && s.route.length <= MAX_ROUTE_HOPS), `route empty or 2..${MAX_ROUTE_HOPS} hops`)
    need(s.route.every(isHexId) && new Set(s.route).size === s.route.length && !s.route.includes(s.to) && !s.route.includes(s.from), 'route of distinct ids, neither end on it')
    // The data is opaque here (parseWebRtcSignal reads it); the link manager bounds its frame's bytes.
    need(typeof s.data === 'object' && s.data !== null && !Array.isArray(s.data) && !(s.data instanceof Uint8Array), 'data an object')
    // Without the data: what a direct caller passes need not survive the codec (undefined, nesting past its depth).
    const again = decodeSignalRelay(decodeFrame(encodeSignalRelay(s.to, s.from, s.initiator, {}, s.route))!.payload, HERE, LINK_PEER)
    needRoundTrip({ ...s, data: {} }, again, 'signal relay')
  }),
  valueTarget('no-route', 'src/link/signal-relay.ts decodeNoRoute', (g) => () => decodeFrame(encodeNoRoute(peerId(g.r), g.r.int(1000) - 1))!.payload, decodeNoRoute, (n) => {
    need(isHexId(n.to) && Number.isSafeInteger(n.attempt) && n.attempt >= -1, 'an id and an attempt')
  }),
  valueTarget('reach', 'src/link/nat.ts parseReach', (g) => () => encodeReach({ nat: g.r.pick([...NAT_CLASSES, 'unknown' as const]), turn: g.r.chance(0.5) }), parseReach, (reach) => {
    need([...NAT_CLASSES, 'unknown'].includes(reach.nat) && typeof reach.turn === 'boolean', 'a NAT class and a TURN flag')
  }),
  reassemblerTarget(),
  rttTarget(),
]
