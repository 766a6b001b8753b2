import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnIn, stopChild } from './exec.js'
import type { Lab } from './netns.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The systemd unit docs/deploy.md installs: the lab runs its ExecStart line. */
export const UNIT_FILE = join(ROOT, 'docs', 'deploy', 'p2p-world.service')

/** The world server of the lab: the deployed unit's command, with the lab's names, certificate and directories. */
export interface LabWorld {
  /** https://198.18.0.1/ */
  readonly pageUrl: string
  /** wss://198.18.0.1/ */
  readonly nodeUrl: string
  /** The certificate the node serves (the lab's own: agents trust it, Chromium is told to). */
  readonly certFile: string
  /** The command line run (the secret is in a file, never on it). */
  readonly command: string
  /** Everything it printed so far. */
  output(): string
  stop(): Promise<void>
}

/**
 * The unit's ExecStart, its continuation lines joined, split into words, with
 * the deployment's names replaced by the lab's: the host name by the lab's
 * server address, the files under /etc/p2p-world and /var/lib/p2p-world by the
 * lab's, and /usr/bin/node by this Node.
 */
export function unitCommand(unit: string, lab: { ip: string; cert: string; key: string; secretFile: string; dataDir: string }): string[] {
  const m = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit)
  if (m === null) throw new Error(`${UNIT_FILE} has no ExecStart`)
  const swaps: [string, string][] = [
    ['world.example.org', lab.ip], ['/etc/p2p-world/fullchain.pem', lab.cert], ['/etc/p2p-world/privkey.pem', lab.key],
    ['/etc/p2p-world/turn-secret', lab.secretFile], ['/var/lib/p2p-world', lab.dataDir], ['/usr/bin/node', process.execPath],
  ]
  let line = m[1]!.replace(/\\\n/g, ' ')
  for (const [from, to] of swaps) line = line.replaceAll(from, to)
  return line.trim().split(/\s+/)
}

/** Starts the unit's command in the pub namespace and waits until it prints its URL. */
export async function startLabWorld(lab: Lab, tls: { cert: string; key: string }, secret: string, dir: string, timeoutMs = 60_000): Promise<LabWorld> {
  const secretFile = join(dir, 'turn-secret')
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 })
  const [cmd, ...args] = unitCommand(readFileSync(UNIT_FILE, 'utf8'), { ip: lab.serverIp, ...tls, secretFile, dataDir: join(dir, 'anchors') })
  const child: ChildProcess = spawnIn(lab.pubNs, cmd!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const take = (d: Buffer): void => {
    out = (out + d.toString()).slice(-1_000_000)
  }
  child.stdout!.on('data', take)
  child.stderr!.on('data', take)
  const end = performance.now() + timeoutMs
  while (!/p2p world: open https:\/\//.test(out)) {
    if (child.exitCode !== null) throw new Error(`the world server exited (${child.exitCode}): ${out.slice(-2000)}`)
    if (performance.now() > end) {
      await stopChild(child)
      throw new Error(`the world server did not come up within ${timeoutMs} ms: ${out.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    pageUrl: `https://${lab.serverIp}/`,
    nodeUrl: `wss://${lab.serverIp}/`,
    certFile: tls.cert,
    command: [cmd, ...args].join(' '),
    output: () => out,
    stop: () => stopChild(child, 5000),
  }
}
