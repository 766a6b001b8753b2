/**
 * The standalone signaling node:
 *   npm run signaling -- --port 8787 [--host 0.0.0.0] [--log-level info] [--anchors N] [--data DIR] [--world main]
 * Logs are JSON lines on stdout; the first says where it listens. With --anchors,
 * N always-on peers join the world too (identities and caches under DIR).
 */
import { parseLogLevel } from '../src/platform/json-log.js'
import { DEFAULT_WORLD_NAME } from '../src/platform/network-peer.js'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { isWorldName } from '../src/platform/signaling/signaling-protocol.js'
import { intFlag, maybeStartAnchors, onShutdown, parseFlags, stdoutLog, usageError } from './cli-support.js'
import { SignalingServer } from './server.js'

const USAGE = `usage: npm run signaling -- [--port 8787] [--host 127.0.0.1] [--log-level debug|info|warn|error|silent]
                             [--heartbeat-ms 30000] [--anchors N] [--data DIR] [--world main]`

const flags = parseFlags(USAGE, {
  port: { type: 'string', default: '8787' },
  host: { type: 'string', default: '127.0.0.1' },
  'log-level': { type: 'string', default: 'info' },
  'heartbeat-ms': { type: 'string', default: '30000' },
  anchors: { type: 'string', default: '0' },
  data: { type: 'string' },
  world: { type: 'string', default: DEFAULT_WORLD_NAME },
})

const port = intFlag(USAGE, flags, 'port', 0, 65535)
const heartbeatMs = intFlag(USAGE, flags, 'heartbeat-ms', 100, 3_600_000)
const anchorCount = intFlag(USAGE, flags, 'anchors', 0, 100)
const level = parseLogLevel(flags['log-level']) ?? usageError(USAGE, '--log-level must be debug, info, warn, error or silent')
const world = isWorldName(flags.world) ? flags.world : usageError(USAGE, '--world must match [A-Za-z0-9_.-]{1,64}')
const host = String(flags.host)
const dataDir = typeof flags.data === 'string' ? flags.data : undefined

const log = stdoutLog(level, 'signaling')
const server = new SignalingServer({ crypto: new NodeCrypto(), log }, { port, host, heartbeatMs })
let bound: number
try {
  bound = await server.start()
} catch (err) {
  log.error('cannot listen', { port, host, err })
  process.exit(1)
}
const anchors = await maybeStartAnchors(stdoutLog(level, 'anchor'), { count: anchorCount, host, port: bound, world, dataDir })

onShutdown(log, async () => {
  await anchors?.close()
  await server.stop()
})
