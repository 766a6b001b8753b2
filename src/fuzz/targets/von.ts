import {
  MAX_COORD, MAX_KNOWN, MAX_NODES, MAX_PATH, MAX_PREFIXES, NO_DIGEST,
  decodeAccept, decodeNodes, decodePrefixes, decodeSketches, encodeSketches, decodeQuery, decodeState, encodeAccept, encodeNodes, encodeQuery, encodeState, readState,
  type NodeInfo, type State,
} from '../../von/messages.js'
import { isBytesOf, isCoord, isHexId, isUintMax, needRoundTrip, sameValue } from '../bounds.js'
import { vonAccept, vonNodes, vonPrefixes, vonQuery, vonState } from '../seeds.js'
import { fuzzCase, need, valueTarget, type FuzzTarget } from '../target.js'

function needState(s: Omit<State, 'vx' | 'vy'> & { vx?: number; vy?: number }, what: string): void {
  need(isCoord(s.x, MAX_COORD) && isCoord(s.y, MAX_COORD), `${what}: coordinates finite within ±${MAX_COORD}`)
  need(isCoord(s.vx ?? 0, MAX_COORD) && isCoord(s.vy ?? 0, MAX_COORD), `${what}: velocity finite within ±${MAX_COORD}`)
  need(isCoord(s.aoi, MAX_COORD) && s.aoi > 0, `${what}: AOI radius in (0, ${MAX_COORD}]`)
  need(isUintMax(s.seq, Number.MAX_SAFE_INTEGER), `${what}: seq a safe unsigned integer`)
}

function needNode(n: NodeInfo, what: string): void {
  need(isHexId(n.id), `${what}: a valid id`)
  needState(n, what)
}

function needPath(path: readonly string[]): void {
  need(path.length <= MAX_PATH && path.every(isHexId) && new Set(path).size === path.length, `path of at most ${MAX_PATH} distinct valid ids`)
}

export const vonTargets: FuzzTarget[] = [
  valueTarget('von-prefixes', 'src/von/messages.ts decodePrefixes (SYNC, ASK)', (g) => () => vonPrefixes(g.r), decodePrefixes, (out, input) => {
    need(out.length * 4 === (input as Uint8Array).length, 'one prefix per 4 bytes')
    need(out.length <= MAX_PREFIXES && out.every((p) => isUintMax(p, 0xffffffff)), `at most ${MAX_PREFIXES} 32-bit prefixes`)
  }),
  valueTarget('von-sketches', 'src/von/messages.ts decodeSketches (SKETCH)', (g) => () => encodeSketches(Array.from({ length: g.r.int(6) }, () => ({ prefix: g.r.int(0x100000000), x: g.r.int(5000) - 100, y: g.r.int(5000) - 100 }))), decodeSketches, (out) => {
    need(out.length <= MAX_NODES && out.every((n) => isUintMax(n.prefix, 0xffffffff) && Number.isInteger(n.x) && Number.isInteger(n.y) && Math.abs(n.x) <= MAX_COORD && Math.abs(n.y) <= MAX_COORD), `at most ${MAX_NODES} (prefix, x, y) in bounds`)
    needRoundTrip(out, decodeSketches(encodeSketches(out)), 'sketches')
  }),
  valueTarget('von-state', 'src/von/messages.ts decodeState', (g) => () => vonState(g.r).slice(0, 6), decodeState, (s) => {
    needState(s, 'state')
    needRoundTrip(s, decodeState(encodeState(s)), 'state')
  }),
  {
    name: 'von-move',
    what: 'src/von/messages.ts readState (MOVE, HELLO)',
    create(gen) {
      const out = { x: 0, y: 0, aoi: 0, seq: 0, vx: 0, vy: 0 }
      let before = { ...out }
      const seed = gen.pool(() => vonState(gen.r))
      return fuzzCase<unknown, ReturnType<typeof readState>>({
        next: () => gen.payload(seed),
        run: (input) => {
          before = { ...out }
          return readState(input, out)
        },
        accepted: (res) => res !== null,
        check: (_input, res) => {
          if (res === null) return need(sameValue(out, before), 'a rejected MOVE leaves the state it reads into untouched')
          needState(out, 'move')
          if (res instanceof Uint8Array) need(res.length <= 2 * MAX_KNOWN && res.length % 2 === 0, `digest of at most ${MAX_KNOWN} 2-byte prefixes`)
          else need(res === undefined || res === NO_DIGEST, 'a digest, none, or the crowd marker')
        },
      })
    },
  },
  valueTarget('von-nodes', 'src/von/messages.ts decodeNodes (NODES)', (g) => () => vonNodes(g.r), decodeNodes, (nodes, input) => {
    need(nodes.length === (input as unknown[]).length, 'every node of the list kept')
    need(nodes.length <= MAX_NODES, `at most ${MAX_NODES} nodes`)
    for (const n of nodes) needNode(n, 'node')
    needRoundTrip(nodes, decodeNodes(encodeNodes(nodes)), 'nodes')
  }),
  valueTarget('von-query', 'src/von/messages.ts decodeQuery (QUERY)', (g) => () => vonQuery(g.r), decodeQuery, (q) => {
    need(isUintMax(q.qid, Number.MAX_SAFE_INTEGER) && isHexId(q.joiner), 'query id and joiner')
    needState({ ...q, seq: 0 }, 'query')
    needPath(q.path)
    if (q.ticket !== undefined) need(Number.isFinite(q.ticket.t) && isBytesOf(q.ticket.sig, 64) && Math.abs(q.ticket.x) <= MAX_COORD && Math.abs(q.ticket.y) <= MAX_COORD, 'a ticket: a place, a time and a 64-byte signature')
    needRoundTrip(q, decodeQuery(encodeQuery(q)), 'query')
  }),
  valueTarget('von-accept', 'src/von/messages.ts decodeAccept (ACCEPT)', (g) => () => vonAccept(g.r), decodeAccept, (a) => {
    need(isUintMax(a.qid, Number.MAX_SAFE_INTEGER) && isHexId(a.joiner), 'query id and joiner')
    needPath(a.path)
    need(Number.isInteger(a.hop) && a.hop >= -1 && a.hop < a.path.length, 'hop -1 or an index in the path')
    need(typeof a.final === 'boolean', 'final a boolean')
    needNode(a.acceptor, 'acceptor')
    need(a.nodes.length <= MAX_NODES, `at most ${MAX_NODES} nodes`)
    for (const n of a.nodes) needNode(n, 'node')
    needRoundTrip(a, decodeAccept(encodeAccept(a)), 'accept')
  }),
]
