/**
 * Load on the signaling node: N WebSocket clients join one world at R per second,
 * each proving its id and, on join, relaying an offer to up to K peers of its host
 * cache, which answer. The node runs in a child process so its RSS is its own.
 *   npm run bench:signaling -- [--clients 2000] [--rate 200] [--offers 3] [--offer-bytes 600] [--json FILE]
 */
import { spawn } from 'node:child_process'
import { createServer, connect as tcpConnect } from 'node:net'
import { WebSocket } from 'ws'
import { toHex } from '../src/core/bytes.js'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { NodeRng } from '../src/platform/node/node-rng.js'
import { authMessage, parseServerMessage } from '../src/platform/signaling/signaling-protocol.js'
import { machine, parseArgs, writeJson } from './lib/args.js'
import { procCpuSeconds, procMemoryMiB } from './lib/proc.js'
import { percentile } from './lib/stats.js'
import { formatTable } from './lib/table.js'

const args = parseArgs(process.argv.slice(2))
const clients = Number(args.get('clients') ?? 2000)
const rate = Number(args.get('rate') ?? 200)
const offers = Number(args.get('offers') ?? 3)
const offerBytes = Number(args.get('offer-bytes') ?? 600)
const crypto = new NodeCrypto()
const rng = new NodeRng()
const started = performance.now()

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect(port, '127.0.0.1', () => { sock.destroy(); resolve(true) })
      sock.on('error', () => resolve(false))
    })
    if (ok) return
    if (performance.now() > end) throw new Error('signaling node did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
}

const port = await freePort()
const child = spawn(process.execPath, ['--import', 'tsx', 'signaling/cli.ts', '--port', String(port), '--log-level', 'warn'], {
  stdio: ['ignore', 'ignore', 'inherit'],
})
await waitListening(port, 15_000)
const idle = procMemoryMiB(child.pid!)
const cpuBefore = procCpuSeconds(child.pid!) ?? NaN

const url = `ws://127.0.0.1:${port}`
const sdp = 'v=0\r\n' + 'a=candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host\r\n'.repeat(Math.ceil(offerBytes / 56))
const relayMs: number[] = []
const joinMs: number[] = []
let joined = 0
let expected = 0
let errors = 0
let closedEarly = 0
const sockets: WebSocket[] = []

function startClient(): void {
  const key = crypto.keyPairFromSeed(rng.bytes(32))
  const t0 = performance.now()
  const ws = new WebSocket(url)
  sockets.push(ws)
  const send = (m: unknown) => ws.send(JSON.stringify(m))
  ws.on('error', () => {})
  ws.on('close', () => { if (!done) closedEarly++ })
  ws.on('message', (raw) => {
    const msg = parseServerMessage(raw.toString(), 1 << 20)
    if (msg === null) return void errors++
    switch (msg.t) {
      case 'challenge':
        return send({ t: 'auth', key: toHex(key.publicKey), sig: toHex(key.sign(authMessage(msg.nonce))) })
      case 'welcome':
        return send({ t: 'join', world: 'bench' })
      case 'peers': {
        joined++
        joinMs.push(performance.now() - t0)
        for (const to of msg.peers.slice(0, offers)) {
          expected += 2
          send({ t: 'signal', to, initiator: true, data: { type: 'offer', sdp, sentAt: performance.now() } })
        }
        return
      }
      case 'signal': {
        const now = performance.now()
        relayMs.push(now - Number(msg.data.sentAt))
        if (msg.initiator) send({ t: 'signal', to: msg.from, initiator: false, data: { type: 'answer', sdp, sentAt: now } })
        return
      }
      case 'error':
        errors++
    }
  })
}

let done = false
const joinStart = performance.now()
await new Promise<void>((resolve) => {
  let created = 0
  const timer = setInterval(() => {
    const due = Math.min(clients, Math.floor(((performance.now() - joinStart) * rate) / 1000) + 1)
    while (created < due) { startClient(); created++ }
    if (created >= clients) { clearInterval(timer); resolve() }
  }, 5)
})
const settleEnd = performance.now() + 15_000
while ((joined < clients || relayMs.length < expected) && performance.now() < settleEnd) await new Promise((r) => setTimeout(r, 50))
const joinWallS = (performance.now() - joinStart) / 1000
await new Promise((r) => setTimeout(r, 500))
const loaded = procMemoryMiB(child.pid!)
const cpu = (procCpuSeconds(child.pid!) ?? NaN) - cpuBefore
done = true
for (const ws of sockets) ws.terminate()
child.kill('SIGTERM')

const mib = (v: number | undefined) => (v === undefined ? 'n/a' : v)
console.log(`signaling node: ${clients} clients join one world at ${rate}/s, each relays an offer (${sdp.length} B SDP) to up to ${offers} hosts, which answer`)
console.log(formatTable(
  ['clients', 'joined', 'relays', 'relay p50 ms', 'relay p99 ms', 'relay max ms', 'join p50 ms', 'join p99 ms', 'errors'],
  [[clients, joined, `${relayMs.length}/${expected}`, percentile(relayMs, 50), percentile(relayMs, 99), percentile(relayMs, 100), percentile(joinMs, 50), percentile(joinMs, 99), errors + closedEarly]],
))
console.log(formatTable(
  ['node RSS idle MiB', 'node RSS loaded MiB', 'node RSS peak MiB', 'node CPU s', 'join phase s'],
  [[mib(idle?.rss), mib(loaded?.rss), mib(loaded?.peak), cpu, joinWallS]],
))
console.log('relay latency: client send -> node -> client receive, one process clock (includes the client process\'s event loop)')
console.log(`${await machine()}; wall ${((performance.now() - started) / 1000).toFixed(1)} s`)
writeJson(args.get('json'), {
  clients, rate, offers, offerSdpBytes: sdp.length, joined, relays: relayMs.length, expectedRelays: expected, errors: errors + closedEarly,
  relayP50Ms: percentile(relayMs, 50), relayP99Ms: percentile(relayMs, 99), relayMaxMs: percentile(relayMs, 100),
  joinP50Ms: percentile(joinMs, 50), joinP99Ms: percentile(joinMs, 99),
  nodeRssIdleMiB: idle?.rss, nodeRssLoadedMiB: loaded?.rss, nodeRssPeakMiB: loaded?.peak, nodeCpuSeconds: cpu, joinPhaseSeconds: joinWallS,
  machine: await machine(),
})
process.exit(0)
