import { parseArgs } from 'node:util'
import type { Log } from '../src/core/env.js'
import type { IceServer } from '../src/platform/ice-servers.js'
import { JsonLog, type LogLevel } from '../src/platform/json-log.js'
import { startAnchors, type Anchors } from '../src/platform/node/anchors.js'
import type { TlsFiles } from './http-front.js'
import { localNodeUrl } from './node-url.js'

/** Prints `message` and the usage to stderr and exits with status 2. */
type FlagOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options']

/** TLS files from `--tls-cert` and `--tls-key` (both or neither), or a usage error. */
export function tlsFlags(usage: string, flags: Record<string, unknown>): TlsFiles | undefined {
  const cert = flags['tls-cert']
  const key = flags['tls-key']
  if (cert === undefined && key === undefined) return undefined
  if (typeof cert !== 'string' || typeof key !== 'string') usageError(usage, '--tls-cert and --tls-key go together')
  return { certFile: cert, keyFile: key }
}

/** Parses `--name value` flags; prints usage and exits on a bad flag or --help. */
export function parseFlags(usage: string, options: FlagOptions): Record<string, string | boolean | undefined> {
  let flags: Record<string, string | boolean | undefined>
  try {
    flags = parseArgs({ options: { ...options, help: { type: 'boolean', default: false } }, strict: true }).values as Record<string, string | boolean | undefined>
  } catch (err) {
    usageError(usage, (err as Error).message)
  }
  if (flags.help === true) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  return flags
}

export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(2)
}

/** An integer flag in [min, max], or a usage error. */
export function intFlag(usage: string, flags: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v < min || v > max) usageError(usage, `--${name} must be an integer in [${min}, ${max}]`)
  return v
}

/** JSON lines on stdout, tagged with `name`. */
export function stdoutLog(level: LogLevel, name: string): JsonLog {
  return new JsonLog({ write: (line) => process.stdout.write(`${line}\n`) }, { level, fields: { name } })
}

/** Starts `count` anchor peers against the node at host:port (none for 0). */
export async function maybeStartAnchors(
  log: Log,
  opts: { count: number; host: string; port: number; world: string; dataDir: string | undefined; tls: boolean; ice: IceServer[] | undefined },
): Promise<Anchors | undefined> {
  if (opts.count === 0) {
    if (opts.dataDir !== undefined) log.info('--data is used by anchor peers only; ignored without --anchors', { data: opts.dataDir })
    return undefined
  }
  if (opts.dataDir === undefined) log.warn('anchors without --data keep their identity in memory: new peer ids on every start', {})
  return startAnchors(log, {
    count: opts.count, url: localNodeUrl(opts.host, opts.port, opts.tls), world: opts.world, dataDir: opts.dataDir, loopbackTls: opts.tls,
    ...(opts.ice === undefined ? {} : { ice: opts.ice }),
  })
}

/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits 0; a second signal
 * exits at once with status 1.
 */
export function onShutdown(log: Log, stop: () => Promise<void>): void {
  let stopping = false
  const handler = (signal: string): void => {
    if (stopping) process.exit(1)
    stopping = true
    log.info('shutting down', { signal })
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => handler('SIGINT'))
  process.on('SIGTERM', () => handler('SIGTERM'))
}
