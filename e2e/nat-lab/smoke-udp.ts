import type { Lab, LabHost } from './netns.js'
import { sleep, type Check } from './smoke-check.js'
import { startUdpAgent, type UdpAgent } from './udp-agent-client.js'

/** Two reflector ports in the pub namespace: two destinations for the same host socket. */
const REFLECTOR_PORTS = [4000, 4001] as const
const REPLY_TIMEOUT_MS = 3_000
const QUIET_MS = 1_000
const PUNCH_ROUNDS = 10
const PUNCH_INTERVAL_MS = 100

interface Mapping {
  readonly ip: string
  readonly port: number
}

/**
 * NAT behaviour with plain UDP: mappings seen by a reflector on two ports,
 * unsolicited packets to a live mapping, and hole punching between every kind
 * of pair (each side sends to the other's reflector-seen mapping and answers
 * whatever reaches it, as ICE does). Every host must be in `lab`: cone1, cone2,
 * sym1, sym2, open1.
 */
export async function udpChecks(lab: Lab): Promise<Check[]> {
  const pub = startUdpAgent(lab.pubNs)
  const agents = new Map(lab.hosts.map((h) => [h.name, startUdpAgent(h.ns)]))
  try {
    await Promise.all(REFLECTOR_PORTS.map((port) => pub.bind(`r${port}`, port, lab.serverIp)))
    pub.onDatagram((d) => {
      if (d.text.startsWith('probe')) pub.send(d.id, d.ip, d.port, `${d.text} ${d.ip}:${d.port}`)
    })
    const checks: Check[] = []
    for (const h of lab.hosts) checks.push(await mappingCheck(lab, h, agents.get(h.name)!))
    checks.push(...(await unsolicitedChecks(lab, agents, pub)))
    const pairs: [string, string, boolean][] = [
      ['cone1', 'cone2', true], ['cone1', 'sym1', false], ['sym1', 'sym2', false], ['open1', 'cone1', true], ['open1', 'sym1', true],
    ]
    checks.push(...(await Promise.all(pairs.map(([a, b, expected], i) => punchCheck(lab, [lab.host(a), lab.host(b)], [agents.get(a)!, agents.get(b)!], `punch${i}`, expected)))))
    return checks
  } finally {
    await Promise.all([pub, ...agents.values()].map((a) => a.stop()))
  }
}

/** Binds socket `id` and asks the reflector on every port what source it sees. */
async function learnMappings(lab: Lab, agent: UdpAgent, id: string, ports: readonly number[]): Promise<(Mapping | undefined)[]> {
  await agent.bind(id)
  return Promise.all(ports.map(async (port) => {
    const text = `probe ${id} ${port}`
    agent.send(id, lab.serverIp, port, text)
    const reply = await waitFor(agent, (d) => d.id === id && d.text.startsWith(`${text} `), REPLY_TIMEOUT_MS)
    const m = reply === undefined ? undefined : /(\S+):(\d+)$/.exec(reply)
    return m === undefined || m === null ? undefined : { ip: m[1]!, port: Number(m[2]) }
  }))
}

async function mappingCheck(lab: Lab, h: LabHost, agent: UdpAgent): Promise<Check> {
  const [a, b] = await learnMappings(lab, agent, 'map', REFLECTOR_PORTS)
  const name = `${h.name} (${h.nat}) mapping to 2 destinations`
  if (a === undefined || b === undefined) return { name, ok: false, detail: 'no answer from the reflector in the pub namespace' }
  const detail = `${a.ip}:${a.port}, ${b.ip}:${b.port}`
  const sameIp = a.ip === h.publicIp && b.ip === h.publicIp
  const samePort = a.port === b.port
  return { name, ok: sameIp && (h.nat === 'symmetric' ? !samePort : samePort), detail: `${detail} (${samePort ? 'same port' : 'different ports'})` }
}

/** A stranger (open1) sends to a live mapping of each home host; only the reflector it talks to gets through. */
async function unsolicitedChecks(lab: Lab, agents: Map<string, UdpAgent>, pub: UdpAgent): Promise<Check[]> {
  const stranger = agents.get('open1')!
  await stranger.bind('stranger')
  const homes = lab.hosts.filter((h) => h.nat !== 'public')
  const targets = await Promise.all(homes.map(async (h) => ({ h, agent: agents.get(h.name)!, m: (await learnMappings(lab, agents.get(h.name)!, 'inbound', [REFLECTOR_PORTS[0]]))[0] })))
  for (const { h, m } of targets) {
    if (m === undefined) continue
    stranger.send('stranger', m.ip, m.port, `intruder ${h.name}`)
    stranger.send('stranger', h.publicIp, m.port + 1, `intruder ${h.name}`)
  }
  await sleep(QUIET_MS)
  // The control: the reflector the host talked to still gets through, so silence above is filtering.
  for (const { m } of targets) if (m !== undefined) pub.send(`r${REFLECTOR_PORTS[0]}`, m.ip, m.port, 'control')
  return Promise.all(targets.map(async ({ h, agent, m }) => {
    const control = m === undefined ? undefined : await waitFor(agent, (d) => d.id === 'inbound' && d.text === 'control', REPLY_TIMEOUT_MS)
    const intruded = agent.received.some((d) => d.text.startsWith('intruder'))
    const detail = m === undefined ? 'no mapping' : `open1 -> ${m.ip}:${m.port}: ${intruded ? 'DELIVERED' : 'dropped'}; reflector -> same: ${control === undefined ? 'lost' : 'delivered'}`
    return { name: `${h.name}: unsolicited inbound dropped`, ok: m !== undefined && !intruded && control !== undefined, detail }
  }))
}

/** Both hosts learn a mapping, then send to each other's and answer what arrives; `expected`: whether both hear the other. */
async function punchCheck(lab: Lab, hosts: [LabHost, LabHost], agents: [UdpAgent, UdpAgent], id: string, expected: boolean): Promise<Check> {
  const maps = await Promise.all(agents.map(async (a) => (await learnMappings(lab, a, id, [REFLECTOR_PORTS[0]]))[0]))
  const name = `punch ${hosts[0].name} <-> ${hosts[1].name}`
  if (maps[0] === undefined || maps[1] === undefined) return { name, ok: false, detail: 'no mapping' }
  const heard = [false, false]
  agents.forEach((a, i) => a.onDatagram((d) => {
    if (d.id !== id || !d.text.startsWith('punch')) return
    heard[i] = true
    if (d.text === 'punch') a.send(id, d.ip, d.port, 'punch-ack')
  }))
  for (let round = 0; round < PUNCH_ROUNDS && !(heard[0] && heard[1]); round++) {
    agents.forEach((a, i) => a.send(id, maps[1 - i]!.ip, maps[1 - i]!.port, 'punch'))
    await sleep(PUNCH_INTERVAL_MS)
  }
  const both = heard[0]! && heard[1]!
  return { name, ok: both === expected, detail: `${both ? 'connected' : 'no path'} (expected ${expected ? 'connected' : 'no path'})` }
}

/** The text of the first datagram (already received or arriving within `timeoutMs`) that `match` accepts. */
function waitFor(agent: UdpAgent, match: (d: { id: string; text: string }) => boolean, timeoutMs: number): Promise<string | undefined> {
  const seen = agent.received.find(match)
  if (seen !== undefined) return Promise.resolve(seen.text)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off()
      resolve(undefined)
    }, timeoutMs)
    const off = agent.onDatagram((d) => {
      if (!match(d)) return
      clearTimeout(timer)
      off()
      resolve(d.text)
    })
  })
}
