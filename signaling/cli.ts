/**
 * The standalone signaling node:
 *   npm run signaling -- --port 8787 [--host 0.0.0.0] [--log-level info] [--anchors N] [--data DIR] [--world main]
 *                        [--stun URL]... [--turn URL]... [--turn-secret-file FILE] [--turn-ttl S] [--ice ...]
 *                        [--tls-cert FILE --tls-key FILE]
 *                        [--max-per-address 16] [--auths-per-minute 60] [--idle-timeout-ms 120000]
 *                        [--allow-origin ORIGIN]... [--trust-proxy ADDR]... [--exempt-address ADDR|none]...
 * Logs are JSON lines on stdout; the first says where it listens. With --anchors,
 * N always-on peers join the world too (identities and caches under DIR).
 * GET /health answers with the node's state (docs/deploy.md).
 */
import { parseLogLevel } from '../src/platform/json-log.js'
import { DEFAULT_WORLD_NAME } from '../src/platform/network-peer.js'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { isWorldName, normalizeWorldName, WORLD_NAME_RULE } from '../src/platform/signaling/signaling-protocol.js'
import { intFlag, maybeStartAnchors, onShutdown, parseFlags, stdoutLog, tlsFlags, usageError } from './cli-support.js'
import { HARDENING_FLAGS, HARDENING_USAGE, hardeningFromFlags, type HardeningOptions } from './hardening-flags.js'
import { createFront, nodeBanner, withHealth } from './http-front.js'
import { ICE_FLAGS, ICE_USAGE, iceFromFlags } from './ice-flags.js'
import { SignalingServer } from './server.js'

const USAGE = `usage: npm run signaling -- [--port 8787] [--host 127.0.0.1] [--log-level debug|info|warn|error|silent]
                             [--heartbeat-ms 30000] [--anchors N] [--data DIR] [--world main]
                             ${ICE_USAGE}
                             [--tls-cert FILE --tls-key FILE]
                             ${HARDENING_USAGE}`

const flags = parseFlags(USAGE, {
  port: { type: 'string', default: '8787' },
  host: { type: 'string', default: '127.0.0.1' },
  'log-level': { type: 'string', default: 'info' },
  'heartbeat-ms': { type: 'string', default: '30000' },
  anchors: { type: 'string', default: '0' },
  data: { type: 'string' },
  world: { type: 'string', default: DEFAULT_WORLD_NAME },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  ...ICE_FLAGS,
  ...HARDENING_FLAGS,
})

const port = intFlag(USAGE, flags, 'port', 0, 65535)
const heartbeatMs = intFlag(USAGE, flags, 'heartbeat-ms', 100, 3_600_000)
const anchorCount = intFlag(USAGE, flags, 'anchors', 0, 100)
const level = parseLogLevel(flags['log-level']) ?? usageError(USAGE, '--log-level must be debug, info, warn, error or silent')
const typedWorld = normalizeWorldName(String(flags.world))
const world = isWorldName(typedWorld) ? typedWorld : usageError(USAGE, `--world must be ${WORLD_NAME_RULE}`)
const host = String(flags.host)
const dataDir = typeof flags.data === 'string' ? flags.data : undefined
const tls = tlsFlags(USAGE, flags)
let hardening: HardeningOptions
try {
  hardening = hardeningFromFlags(flags, { host, anchors: anchorCount })
} catch (err) {
  usageError(USAGE, (err as Error).message)
}

const log = stdoutLog(level, 'signaling')
let ice: ReturnType<typeof iceFromFlags>
try {
  ice = iceFromFlags(flags, log)
} catch (err) {
  usageError(USAGE, (err as Error).message)
}
const box: { server?: SignalingServer } = {}
let front: ReturnType<typeof createFront>
try {
  front = createFront(tls, withHealth(() => box.server?.health() ?? { ok: false }, nodeBanner), log)
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject)
    front.listen(port, host, () => resolve())
  })
} catch (err) {
  log.error('cannot listen', { port, host, err: (err as Error).message })
  process.exit(1)
}
const server = new SignalingServer({ crypto: new NodeCrypto(), log }, { server: front, heartbeatMs, ice: ice.ice, ...hardening })
box.server = server
const bound = await server.start()
const anchors = await maybeStartAnchors(stdoutLog(level, 'anchor'), {
  count: anchorCount, host, port: bound, world, dataDir, tls: tls !== undefined, ice: ice.anchorIce,
})
if (anchors !== undefined) server.markAnchors(anchors.peers.map((a) => a.peer.id))

onShutdown(log, async () => {
  await anchors?.close()
  await server.stop()
  front.closeAllConnections()
  await new Promise<void>((resolve) => front.close(() => resolve()))
})
