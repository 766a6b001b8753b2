/**
 * `npm start`: builds the browser client when dist/ is missing or stale, then
 * serves it and a signaling node on one port (the node shares the HTTP server,
 * so the page reaches it at ws://<same host>/). Prints the URL to open.
 *   npm start -- [--port 8080] [--host 127.0.0.1] [--log-level warn] [--rebuild] [--anchors N] [--data DIR]
 *                [--stun URL]... [--turn URL]... [--turn-secret-file FILE] [--turn-ttl S] [--ice ...]
 *                [--tls-cert FILE --tls-key FILE] [the signaling node's limits: docs/signaling.md]
 * On one host nothing more is needed; a public deployment: docs/deploy.md.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseLogLevel } from '../src/platform/json-log.js'
import { DEFAULT_WORLD_NAME } from '../src/platform/network-peer.js'
import { intFlag, maybeStartAnchors, onShutdown, parseFlags, stdoutLog, tlsFlags, usageError } from './cli-support.js'
import { HARDENING_FLAGS, HARDENING_USAGE, hardeningFromFlags, type HardeningOptions } from './hardening-flags.js'
import { ICE_FLAGS, ICE_USAGE, iceFromFlags } from './ice-flags.js'
import { ensureClientBuilt } from './client-build.js'
import { startWorldServer, type WorldServer } from './world-server.js'

const USAGE = `usage: npm start -- [--port 8080] [--host 127.0.0.1] [--log-level debug|info|warn|error|silent] [--rebuild]
                  [--anchors N] [--data DIR] ${ICE_USAGE}
                  [--tls-cert FILE --tls-key FILE]
                  ${HARDENING_USAGE}`
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

const flags = parseFlags(USAGE, {
  port: { type: 'string', default: '8080' },
  host: { type: 'string', default: '127.0.0.1' },
  'log-level': { type: 'string', default: 'warn' },
  rebuild: { type: 'boolean', default: false },
  anchors: { type: 'string', default: '0' },
  data: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  ...ICE_FLAGS,
  ...HARDENING_FLAGS,
})
const port = intFlag(USAGE, flags, 'port', 0, 65535)
const anchorCount = intFlag(USAGE, flags, 'anchors', 0, 100)
const level = parseLogLevel(flags['log-level']) ?? usageError(USAGE, '--log-level must be debug, info, warn, error or silent')
const host = String(flags.host)
const log = stdoutLog(level, 'start')
const tls = tlsFlags(USAGE, flags)
let ice: ReturnType<typeof iceFromFlags>
let hardening: HardeningOptions
try {
  ice = iceFromFlags(flags, log)
  hardening = hardeningFromFlags(flags, { host, anchors: anchorCount })
} catch (err) {
  usageError(USAGE, (err as Error).message)
}

try {
  await ensureClientBuilt(ROOT, { force: flags.rebuild === true, log: (line) => process.stdout.write(`${line}\n`) })
} catch (err) {
  if (!existsSync(join(ROOT, 'dist', 'index.html'))) {
    process.stderr.write(`cannot build the client: ${(err as Error).message}\n`)
    process.exit(1)
  }
  process.stderr.write(`cannot rebuild the client, serving the previous build: ${(err as Error).message}\n`)
}

let server: WorldServer
try {
  server = await startWorldServer(stdoutLog(level, 'signaling'), { root: ROOT, host, port, signaling: { ice: ice.ice, ...hardening }, ...(tls === undefined ? {} : { tls }) })
} catch (err) {
  process.stderr.write(`cannot serve on ${host}:${port}: ${(err as Error).message}\n`)
  process.exit(1)
}
const anchors = await maybeStartAnchors(stdoutLog(level, 'anchor'), {
  count: anchorCount, host, port: server.port, world: DEFAULT_WORLD_NAME, dataDir: typeof flags.data === 'string' ? flags.data : undefined,
  tls: tls !== undefined, ice: ice.anchorIce,
})
if (anchors !== undefined) server.signaling.markAnchors(anchors.peers.map((a) => a.peer.id))

process.stdout.write(`p2p world: open ${server.url} (in two tabs to see each other); signaling node on the same port. Ctrl-C stops.\n`)

onShutdown(log, async () => {
  await anchors?.close()
  await server.stop()
  process.stdout.write('p2p world: stopped\n')
})
