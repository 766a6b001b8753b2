import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runIn, spawnIn, stopChild } from './exec.js'
import type { Lab } from './netns.js'

/** The configuration docs/deploy.md installs; the lab runs it with its own values and a few lines of its own. */
export const TURNSERVER_TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'deploy', 'turnserver.conf')

/** Options of {@link startCoturn}. */
export interface CoturnInit {
  /** The TURN REST API secret (`static-auth-secret`); written to the 0600 config file only. */
  secret: string
  /** @default 'p2pw.lab' */
  realm?: string
  /** Certificate and key (PEM) for TURN over TLS on 5349. */
  cert: string
  key: string
  /** A directory of the caller's for the config, log, pid file and user database. */
  dir: string
  /** How long to wait for the first STUN answer. @default 10_000 */
  startTimeoutMs?: number
}

/** A coturn running in the lab's pub namespace. */
export interface Coturn {
  /** `stun:198.18.0.1:3478` */
  readonly stunUrl: string
  /** `turn:198.18.0.1:3478?transport=udp` */
  readonly turnUrl: string
  /** `turns:198.18.0.1:5349?transport=tcp` */
  readonly turnsUrl: string
  readonly logFile: string
  /** The generated config (mode 0600: it holds the secret). */
  readonly configFile: string
  stop(): Promise<void>
}

const TURNSERVER = '/usr/bin/turnserver'
const STUNCLIENT = '/usr/bin/turnutils_stunclient'
const PORT = 3478
const TLS_PORT = 5349
const PROBE_TIMEOUT_MS = 250
const PROBE_INTERVAL_MS = 100
const SAFE_VALUE_RE = /^[A-Za-z0-9._~+/=-]+$/

/**
 * Starts coturn in the pub namespace with docs/deploy/turnserver.conf (TURN REST
 * API credentials, `use-auth-secret`; TLS on 5349) and resolves once it answers
 * a STUN binding request. The lab adds its address, files, and one permission:
 * relaying to the lab's internet (198.18.0.0/24), which the deployed file denies
 * with the rest of 198.18.0.0/15. The homes' LANs (198.19.0.0/16) stay denied,
 * as private networks are on a real host: coturn refuses a permission there
 * (403), so an ICE check towards a peer's LAN address never leaves it.
 *
 * Found with coturn 4.6.1 (Debian 12): it refuses loopback peers, has no
 * built-in deny list of private or reserved ranges, relays from one of its
 * relay addresses to another, and closes a whole allocation when a relayed
 * send fails (ENETUNREACH): see netns.ts, which routes the homes' range in pub.
 */
export async function startCoturn(lab: Lab, init: CoturnInit): Promise<Coturn> {
  const realm = init.realm ?? 'p2pw.lab'
  // A line break or '#' would change the config's meaning; base64 and hex secrets pass.
  if (!SAFE_VALUE_RE.test(init.secret) || !SAFE_VALUE_RE.test(realm)) throw new Error(`the TURN secret and realm must match ${SAFE_VALUE_RE}`)
  const configFile = join(init.dir, 'turnserver.conf')
  const logFile = join(init.dir, 'turn.log')
  const values: Record<string, string> = { '@SECRET@': init.secret, '@REALM@': realm, '@CERT@': init.cert, '@KEY@': init.key }
  const deployed = readFileSync(TURNSERVER_TEMPLATE, 'utf8').replace(/@[A-Z]+@/g, (k) => {
    const v = values[k]
    if (v === undefined) throw new Error(`${TURNSERVER_TEMPLATE}: unknown placeholder ${k}`)
    return v
  })
  const config = [
    deployed,
    '# The lab: its address and files, and its internet allowed as peers.',
    `listening-ip=${lab.serverIp}`,
    `relay-ip=${lab.serverIp}`,
    'allowed-peer-ip=198.18.0.0-198.18.0.255',
    'no-dtls',
    `log-file=${logFile}`,
    ...(process.env.NAT_LAB_DEBUG === undefined ? [] : ['verbose']),
    'no-stdout-log',
    `pidfile=${join(init.dir, 'turnserver.pid')}`,
    // Its own SQLite file, so coturn neither needs nor touches /var/lib/turn.
    `userdb=${join(init.dir, 'turndb')}`,
    '',
  ].join('\n')
  // Created afresh: an existing file would keep its mode, perhaps readable by all.
  rmSync(configFile, { force: true })
  writeFileSync(configFile, config, { mode: 0o600, flag: 'wx' })
  const child = spawnIn(lab.pubNs, TURNSERVER, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2_000)
  })
  const stop = (): Promise<void> => stopChild(child)
  const deadline = performance.now() + (init.startTimeoutMs ?? 10_000)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}): ${stderr.trim()} (see ${logFile})`)
    if (await stunAnswers(lab.pubNs, lab.serverIp, PORT)) break
    if (performance.now() > deadline) {
      await stop()
      throw new Error(`turnserver did not answer STUN on ${lab.serverIp}:${PORT} within ${init.startTimeoutMs ?? 10_000} ms (see ${logFile})`)
    }
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS))
  }
  const ip = lab.serverIp
  return { stunUrl: `stun:${ip}:${PORT}`, turnUrl: `turn:${ip}:${PORT}?transport=udp`, turnsUrl: `turns:${ip}:${TLS_PORT}?transport=tcp`, logFile, configFile, stop }
}

/** Whether a STUN binding request from namespace `ns` to ip:port gets an answer. */
export async function stunAnswers(ns: string, ip: string, port: number): Promise<boolean> {
  try {
    const { stdout } = await runIn(ns, STUNCLIENT, ['-p', String(port), ip], { timeoutMs: PROBE_TIMEOUT_MS })
    return /UDP reflexive addr/i.test(stdout)
  } catch {
    return false
  }
}
