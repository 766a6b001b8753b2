import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runIn, spawnIn, stopChild } from './exec.js'
import type { Lab } from './netns.js'

/** Options of {@link startCoturn}. */
export interface CoturnInit {
  /** The TURN REST API secret (`static-auth-secret`); written to the 0600 config file only. */
  secret: string
  /** @default 'p2pw.lab' */
  realm?: string
  /** UDP and TCP port of STUN/TURN. @default 3478 */
  port?: number
  /** A directory of the caller's for the config, log, pid file and user database. */
  dir: string
  /** Address relays are allocated on. @default the server's own address */
  relayIp?: string
  /** How long to wait for the first STUN answer. @default 10_000 */
  startTimeoutMs?: number
}

/** A coturn running in the lab's pub namespace. */
export interface Coturn {
  /** `stun:198.18.0.1:<port>` */
  readonly stunUrl: string
  /** `turn:198.18.0.1:<port>?transport=udp` */
  readonly turnUrl: string
  readonly logFile: string
  /** The generated config (mode 0600: it holds the secret). */
  readonly configFile: string
  stop(): Promise<void>
}

const TURNSERVER = '/usr/bin/turnserver'
const STUNCLIENT = '/usr/bin/turnutils_stunclient'
const PROBE_TIMEOUT_MS = 250
const PROBE_INTERVAL_MS = 100
const RELAY_PORT_MIN = 49152
const RELAY_PORT_MAX = 49407
const SAFE_VALUE_RE = /^[A-Za-z0-9._~+/=-]+$/

/**
 * Starts coturn in the pub namespace at the lab's server address with TURN REST
 * API credentials (`use-auth-secret`) and resolves once it answers a STUN
 * binding request.
 *
 * Peer permissions, as found with coturn 4.6.1 (Debian 12): it refuses loopback
 * peers (403 Forbidden IP unless `allow-loopback-peers`), multicast ones with
 * `no-multicast-peers`, and `denied-peer-ip` ranges; it has no built-in deny list
 * of private or reserved ranges, and relays from one of its relay addresses to
 * another (uclient -y: every datagram arrived without any allowed-peer-ip).
 * 198.18.0.0/15 is allowed explicitly anyway (`allowed-peer-ip` wins over any
 * `denied-peer-ip`), so the lab keeps working if a later coturn or a distribution
 * config denies reserved ranges by default; smoke-turn.ts checks relay-to-relay.
 */
export async function startCoturn(lab: Lab, init: CoturnInit): Promise<Coturn> {
  const port = init.port ?? 3478
  // A line break or '#' would change the config's meaning; base64 and hex secrets pass.
  if (!SAFE_VALUE_RE.test(init.secret) || !SAFE_VALUE_RE.test(init.realm ?? 'p2pw.lab')) throw new Error(`the TURN secret and realm must match ${SAFE_VALUE_RE}`)
  const configFile = join(init.dir, 'turnserver.conf')
  const logFile = join(init.dir, 'turn.log')
  const config = [
    `listening-ip=${lab.serverIp}`,
    `relay-ip=${init.relayIp ?? lab.serverIp}`,
    `listening-port=${port}`,
    `min-port=${RELAY_PORT_MIN}`,
    `max-port=${RELAY_PORT_MAX}`,
    'use-auth-secret',
    `static-auth-secret=${init.secret}`,
    `realm=${init.realm ?? 'p2pw.lab'}`,
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    'allowed-peer-ip=198.18.0.0-198.19.255.255',
    `log-file=${logFile}`,
    'simple-log',
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
    if (await stunAnswers(lab.pubNs, lab.serverIp, port)) break
    if (performance.now() > deadline) {
      await stop()
      throw new Error(`turnserver did not answer STUN on ${lab.serverIp}:${port} within ${init.startTimeoutMs ?? 10_000} ms (see ${logFile})`)
    }
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS))
  }
  return { stunUrl: `stun:${lab.serverIp}:${port}`, turnUrl: `turn:${lab.serverIp}:${port}?transport=udp`, logFile, configFile, stop }
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
