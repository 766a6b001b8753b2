import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Coturn } from './coturn.js'
import { run, spawnIn, stopChild } from './exec.js'
import type { Lab } from './netns.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The world server of the lab: `npm start` as docs/deploy.md runs it, on the lab's public address. */
export interface LabWorld {
  /** https://198.18.0.1/ */
  readonly pageUrl: string
  /** wss://198.18.0.1/ */
  readonly nodeUrl: string
  /** The certificate the node serves (a lab CA: agents trust it, Chromium is told to). */
  readonly certFile: string
  /** The exact command line run, for the report. */
  readonly command: string
  /** Everything it printed so far. */
  output(): string
  stop(): Promise<void>
}

/** A self-signed certificate for the lab's server address, valid for a day. */
export async function labCertificate(dir: string, ip: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'node-cert.pem')
  const key = join(dir, 'node-key.pem')
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '1', '-nodes',
    '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`, '-keyout', key, '-out', cert,
  ], { timeoutMs: 15_000 })
  return { cert, key }
}

/**
 * Starts `npm start` in the pub namespace on 198.18.0.1:443 with TLS, the lab's
 * STUN and TURN (ephemeral credentials from the shared secret) and one anchor,
 * and waits until it prints its URL.
 */
export async function startLabWorld(lab: Lab, turn: Coturn, secret: string, dir: string, timeoutMs = 60_000): Promise<LabWorld> {
  const tls = await labCertificate(dir, lab.serverIp)
  const secretFile = join(dir, 'turn-secret')
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 })
  const args = [
    'start', '--', '--host', lab.serverIp, '--port', '443', '--tls-cert', tls.cert, '--tls-key', tls.key,
    '--stun', turn.stunUrl, '--turn', turn.turnUrl, '--turn-secret-file', secretFile,
    '--anchors', '1', '--data', join(dir, 'anchors'), '--log-level', 'info',
  ]
  const child: ChildProcess = spawnIn(lab.pubNs, 'npm', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: false })
  let out = ''
  const take = (d: Buffer): void => {
    out = (out + d.toString()).slice(-1_000_000)
  }
  child.stdout!.on('data', take)
  child.stderr!.on('data', take)
  const end = performance.now() + timeoutMs
  while (!/p2p world: open https:\/\//.test(out)) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}): ${out.slice(-2000)}`)
    if (performance.now() > end) {
      await stopChild(child)
      throw new Error(`npm start did not come up within ${timeoutMs} ms: ${out.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    pageUrl: `https://${lab.serverIp}/`,
    nodeUrl: `wss://${lab.serverIp}/`,
    certFile: tls.cert,
    command: `npm ${args.join(' ')}`,
    output: () => out,
    stop: () => stopChild(child, 5000),
  }
}
