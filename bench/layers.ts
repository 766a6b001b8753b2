/**
 * What codec + LinkManager + scheduler cost per message on a real WebRTC link
 * (Node, @roamhq/wrtc, loopback): ping-pong round trips of a small message over
 * the raw RTCDataChannel vs through the link layer, on the same connection,
 * alternating blocks of each so drift hits both arms alike.
 *   npm run bench:layers -- [--rounds 20] [--per-round 500] [--payload-bytes 32] [--json FILE]
 */
import wrtc from '@roamhq/wrtc'
import { encodeFrame } from '../src/core/codec.js'
import { peerIdFromPublicKey, type PeerId } from '../src/core/id.js'
import { LinkManager } from '../src/link/link-manager.js'
import { PROTOCOL } from '../src/link/link-messages.js'
import { Priority } from '../src/link/priority.js'
import { LoopbackSignaling } from '../src/platform/loopback-signaling.js'
import { createNodeEnv } from '../src/platform/node/node-env.js'
import type { WebRtcConnection } from '../src/platform/webrtc/webrtc-connection.js'
import { WebRtcTransport } from '../src/platform/webrtc/webrtc-transport.js'
import { machine, parseArgs, writeJson } from './lib/args.js'
import { mean, percentile } from './lib/stats.js'
import { formatTable } from './lib/table.js'

const args = parseArgs(process.argv.slice(2))
const rounds = Number(args.get('rounds') ?? 20)
const perRound = Number(args.get('per-round') ?? 500)
const payloadBytes = Number(args.get('payload-bytes') ?? 32)
const T = PROTOCOL.TEST
const started = performance.now()

const env = createNodeEnv({ logLevel: 'silent' })
const hub = new LoopbackSignaling(env.timers)
function peer(): { id: PeerId; links: LinkManager } {
  const keyPair = env.crypto.keyPairFromSeed(env.rng.bytes(32))
  const id = peerIdFromPublicKey(env.crypto, keyPair.publicKey)
  const box: { links?: LinkManager } = {}
  const signaling = hub.attach(id, { receiveSignal: (f, i, d, v) => box.links?.receiveSignal(f, i, d, v) })
  const transport = new WebRtcTransport({ keyPair, crypto: env.crypto, clock: env.clock, timers: env.timers, rng: env.rng, wrtc })
  // No keepalives during the raw arm, which borrows the channel's message handler.
  box.links = new LinkManager({ env, localId: id, transport, signaling }, { keepaliveMs: 600_000, deadAfterMs: 1_200_000 })
  return { id, links: box.links }
}
const a = peer()
const b = peer()
a.links.connect(b.id)
const openBy = performance.now() + 10_000
while (!(a.links.isOpen(b.id) && b.links.isOpen(a.id))) {
  if (performance.now() > openBy) throw new Error('link did not open')
  await new Promise((r) => setTimeout(r, 5))
}
const chA = (a.links.link(b.id)!.conn as WebRtcConnection).rawChannel!
const chB = (b.links.link(a.id)!.conn as WebRtcConnection).rawChannel!

const payload = new Uint8Array(payloadBytes).fill(7)
const frame = encodeFrame(T, 1, payload)
let onPong: () => void = () => {}
b.links.handle(T, 1, (from, p) => b.links.send(from, T, 2, p, Priority.HIGH))
a.links.handle(T, 2, () => onPong())

/** `n` sequential round trips; each starts when the previous pong arrives. */
function run(n: number, ping: () => void): Promise<number[]> {
  const samples: number[] = []
  return new Promise((resolve) => {
    let t0 = performance.now()
    onPong = () => {
      const now = performance.now()
      samples.push(now - t0)
      if (samples.length === n) return resolve(samples)
      t0 = now
      ping()
    }
    ping()
  })
}

async function rawArm(n: number): Promise<number[]> {
  const [keepA, keepB] = [chA.onmessage, chB.onmessage]
  chB.onmessage = (e: MessageEvent) => chB.send(e.data as ArrayBuffer)
  chA.onmessage = () => onPong()
  try {
    return await run(n, () => chA.send(frame as Uint8Array<ArrayBuffer>))
  } finally {
    chA.onmessage = keepA
    chB.onmessage = keepB
  }
}

const layersArm = (n: number): Promise<number[]> => run(n, () => a.links.send(b.id, T, 1, payload, Priority.HIGH))

await rawArm(perRound)
await layersArm(perRound)
const raw: number[] = []
const layers: number[] = []
for (let r = 0; r < rounds; r++) {
  raw.push(...(await rawArm(perRound)))
  layers.push(...(await layersArm(perRound)))
}
a.links.close()
b.links.close()

const rawP50 = percentile(raw, 50)
const layersP50 = percentile(layers, 50)
const addedMs = (layersP50 - rawP50) / 2
console.log(`layer cost on one WebRTC link (Node, @roamhq/wrtc, loopback): ${rounds} x ${perRound} round trips per arm, ` +
  `${frame.length} B frame (${payloadBytes} B payload), HIGH`)
console.log(formatTable(
  ['arm', 'round trips', 'RTT p50 ms', 'RTT mean ms', 'RTT p99 ms'],
  [
    ['raw RTCDataChannel', raw.length, rawP50, mean(raw), percentile(raw, 99)],
    ['codec + LinkManager + scheduler', layers.length, layersP50, mean(layers), percentile(layers, 99)],
  ],
))
console.log(`layers add ${addedMs.toFixed(4)} ms per message ((p50 RTT difference) / 2 messages per round trip; target <= 0.05 ms); ` +
  `RTT ratio layers / raw = ${(layersP50 / rawP50).toFixed(3)}`)
console.log(`${await machine()}; wall ${((performance.now() - started) / 1000).toFixed(1)} s`)
writeJson(args.get('json'), {
  rounds, perRound, payloadBytes, frameBytes: frame.length,
  raw: { p50Ms: rawP50, meanMs: mean(raw), p99Ms: percentile(raw, 99) },
  layers: { p50Ms: layersP50, meanMs: mean(layers), p99Ms: percentile(layers, 99) },
  addedPerMessageMs: addedMs, rttRatio: layersP50 / rawP50,
  machine: await machine(),
})
process.exit(0)
