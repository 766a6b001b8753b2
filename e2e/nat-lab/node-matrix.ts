import type { AgentClient, AgentEvent } from './agent-client.js'
import { expectation, type IceMode, type LabCase } from './expectations.js'
import type { NatKind } from './netns.js'

/** How long b may take to dial a (join the node, hear of a), and the dial to open or fail (the link layer gives up at 10 s). */
const DIAL_WAIT_MS = 30_000
const OPEN_WAIT_MS = 20_000
const JOIN_WAIT_MS = 20_000
const MOVES = 20
const MOVE_EVERY_MS = 100

/** One Node-to-Node case of the matrix: `a` starts a world, `b` joins it through the node and dials `a`. */
export interface NodePair {
  a: { host: string; nat: NatKind; agent: AgentClient }
  b: { host: string; nat: NatKind; agent: AgentClient }
}

const iceFor = (mode: IceMode, stunUrl: string): unknown => (mode === 'none' ? [] : mode === 'stun' ? [{ urls: [stunUrl] }] : 'node')

/** Runs one pair under one ICE configuration and reports what happened; a lab error is reported as the case's cause. */
export async function runNodeCase(p: NodePair, mode: IceMode, stunUrl: string, index: number): Promise<LabCase> {
  try {
    const c = await nodeCase(p, mode, stunUrl, index)
    return { ...c, trace: timeline(p, caseKey(p, mode)) }
  } catch (err) {
    return {
      client: 'node', a: p.a.host, b: p.b.host, nats: `${p.a.nat}-${p.b.nat}`, ice: mode, expected: expectation(p.a.nat, p.b.nat, mode),
      connected: false, openMs: undefined, path: undefined, pathOther: undefined, cause: 'lab error', detail: (err as Error).message, latencyMs: undefined,
    }
  }
}

const caseKey = (p: NodePair, mode: IceMode): string => `${p.a.host}-${p.b.host}-${mode.replace('+', '')}`

async function nodeCase(p: NodePair, mode: IceMode, stunUrl: string, index: number): Promise<LabCase> {
  const key = caseKey(p, mode)
  const world = `lab-${key}`
  const base: LabCase = {
    client: 'node', a: p.a.host, b: p.b.host, nats: `${p.a.nat}-${p.b.nat}`, ice: mode, expected: expectation(p.a.nat, p.b.nat, mode),
    connected: false, openMs: undefined, path: undefined, pathOther: undefined, cause: undefined, detail: undefined, latencyMs: undefined,
  }
  const ice = iceFor(mode, stunUrl)
  const x = 1000
  const y = 400 + index * 10
  p.a.agent.send({ cmd: 'peer', key: `${key}/a`, world, ice, x, y })
  const joined = await p.a.agent.waitFor((e) => e.ev === 'joined' && e.key === `${key}/a`, JOIN_WAIT_MS, `${key}: a joined`)
  const aId = String(joined.id)
  p.b.agent.send({ cmd: 'peer', key: `${key}/b`, world, ice, x: x + 50, y, watch: aId })
  try {
    const dial = await p.b.agent.next((e) => e.ev === 'dial' && e.key === `${key}/b`, DIAL_WAIT_MS)
    if (dial === undefined) return { ...base, cause: 'never dialled', detail: `b had no link to a within ${DIAL_WAIT_MS} ms` }
    const outcome = await p.b.agent.waitFor(
      (e) => e.key === `${key}/b` && e.peer === aId && (e.ev === 'link' || e.ev === 'failed'),
      OPEN_WAIT_MS, `${key}: a link to a, or its failure`,
    ).catch(() => undefined)
    if (outcome === undefined) return { ...base, cause: 'no outcome', detail: `nothing within ${OPEN_WAIT_MS} ms` }
    if (outcome.ev === 'failed') return { ...base, cause: String(outcome.cause ?? outcome.reason), detail: str(outcome.detail) }
    const other = await p.a.agent.next((e) => e.ev === 'link' && e.key === `${key}/a`, 5000)
    const latencyMs = await moveLatency(p, key, aId, x, y)
    return {
      ...base, connected: true, openMs: Number(outcome.openMs), path: pathOf(outcome), pathOther: other === undefined ? undefined : pathOf(other), latencyMs,
    }
  } finally {
    p.a.agent.send({ cmd: 'close', key: `${key}/a` })
    p.b.agent.send({ cmd: 'close', key: `${key}/b` })
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

function pathOf(e: AgentEvent): string {
  const rtt = typeof e.rttMs === 'number' ? `, ICE RTT ${e.rttMs.toFixed(1)} ms` : ''
  return `${String(e.path)} (${String(e.local)}/${String(e.remote)}${rtt})`
}

/**
 * One-way move latency, a to b: a zig-zags MOVES steps (each turn is one its
 * neighbours cannot predict, so each step is sent; a straight walk would be
 * dead-reckoned from one MOVE). Each step a's peer sent is paired with its
 * arrival (b's agent) by position, on the wall clock both processes share.
 * Median and max in ms; undefined when b saw none.
 */
async function moveLatency(p: NodePair, key: string, aId: string, x: number, y: number): Promise<LabCase['latencyMs']> {
  await p.b.agent.next((e) => e.ev === 'saw' && e.key === `${key}/b` && e.from === aId, 5000)
  const steps: { x: number; y: number }[] = []
  for (let i = 1; i <= MOVES; i++) {
    const step = { x: x + i * 0.5, y: y + (i % 2) * 3 }
    steps.push(step)
    p.a.agent.send({ cmd: 'move', key: `${key}/a`, ...step })
    await new Promise((r) => setTimeout(r, MOVE_EVERY_MS))
  }
  const told = steps.filter((s) => p.a.agent.events.some((e) => e.ev === 'moved' && e.key === `${key}/a` && e.x === s.x && e.y === s.y && e.told === true))
  const last = told[told.length - 1] ?? steps[steps.length - 1]!
  await p.b.agent.next((e) => e.ev === 'saw' && e.key === `${key}/b` && e.x === last.x && e.y === last.y, 2000)
  const delays: number[] = []
  for (const s of told) {
    const sent = p.a.agent.events.find((e) => e.ev === 'moved' && e.key === `${key}/a` && e.x === s.x && e.y === s.y)
    const seen = p.b.agent.events.find((e) => e.ev === 'saw' && e.key === `${key}/b` && e.from === aId && e.x === s.x && e.y === s.y)
    if (sent !== undefined && seen !== undefined) delays.push(Number(seen.t) - Number(sent.t))
  }
  // Fewer than half the steps sent is itself a fault (the zig-zag defeats prediction): count them all then.
  const sent = told.length * 2 < MOVES ? MOVES : told.length
  if (delays.length === 0) return { p50: NaN, max: NaN, n: 0, sent }
  delays.sort((u, v) => u - v)
  return { p50: delays[Math.floor(delays.length / 2)]!, max: delays[delays.length - 1]!, n: delays.length, sent }
}

/** What both agents reported of a case (joins, links, failures, the link layer's and peer's logs), in arrival order per agent. */
function timeline(p: NodePair, key: string): string[] {
  const mine = (e: AgentEvent): boolean => String(e.key ?? '').startsWith(key) && e.ev !== 'moved' && e.ev !== 'saw'
  const at = (e: AgentEvent): string => (typeof e.t === 'number' ? `${((e.t % 1e6) / 1000).toFixed(3)} ` : '')
  return [...p.a.agent.events, ...p.b.agent.events].filter(mine)
    .map((e) => `${at(e)}${String(e.key)} ${e.ev} ${e.ev === 'log' ? `${String(e.msg)} ${JSON.stringify(e.fields)}` : JSON.stringify(e)}`.slice(0, 400))
}
