/**
 * The standalone signaling node:
 *   npm run signaling -- --port 8787 [--host 0.0.0.0] [--log-level info] [--anchors N] [--data DIR]
 * Logs are JSON lines on stdout; the first says where it listens.
 */
import { parseArgs } from 'node:util'
import { JsonLog, parseLogLevel } from '../src/platform/json-log.js'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { SignalingServer } from './server.js'

const USAGE = `usage: npm run signaling -- [--port 8787] [--host 127.0.0.1] [--log-level debug|info|warn|error|silent]
                             [--heartbeat-ms 30000] [--anchors N] [--data DIR]`

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`)
  process.exit(2)
}

let flags: Record<string, string | boolean | undefined>
try {
  flags = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      'log-level': { type: 'string', default: 'info' },
      'heartbeat-ms': { type: 'string', default: '30000' },
      anchors: { type: 'string', default: '0' },
      data: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values
} catch (err) {
  fail((err as Error).message)
}
if (flags.help === true) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

const int = (name: string, min: number, max: number): number => {
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v < min || v > max) fail(`--${name} must be an integer in [${min}, ${max}]`)
  return v
}
const port = int('port', 0, 65535)
const heartbeatMs = int('heartbeat-ms', 100, 3_600_000)
const anchors = int('anchors', 0, 1000)
const level = parseLogLevel(flags['log-level']) ?? fail('--log-level must be debug, info, warn, error or silent')
if (anchors > 0) {
  fail(`--anchors ${anchors}: anchor peers arrive with the peer wiring (createPeer), which is not built yet; run without --anchors for now`)
}

const log = new JsonLog({ write: (line) => process.stdout.write(`${line}\n`) }, { level, fields: { name: 'signaling' } })
if (flags.data !== undefined) log.info('--data is used by anchor peers only; ignored without --anchors', { data: flags.data })
const server = new SignalingServer({ crypto: new NodeCrypto(), log }, { port, host: String(flags.host), heartbeatMs })
try {
  await server.start()
} catch (err) {
  log.error('cannot listen', { port, host: flags.host, err })
  process.exit(1)
}

const shutdown = (signal: string): void => {
  log.info('shutting down', { signal })
  void server.stop().then(() => process.exit(0))
}
process.once('SIGINT', () => shutdown('SIGINT'))
process.once('SIGTERM', () => shutdown('SIGTERM'))
