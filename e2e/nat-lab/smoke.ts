/**
 * The NAT lab's network layer, end to end: `npx tsx e2e/nat-lab/smoke.ts` (as root).
 * Builds cone1, cone2 (cone NAT), sym1, sym2 (symmetric NAT) and open1 (public),
 * checks NAT behaviour with plain UDP, routes, coturn and Chromium in a
 * namespace, prints a table and timings, and always destroys the lab. Exits 0
 * when the machine cannot run the lab (preflight says why), 1 on any failure.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatTable } from '../../bench/lib/table.js'
import { cleanupOnExit } from './cleanup-on-exit.js'
import { startCoturn, type Coturn } from './coturn.js'
import { labCertificate } from './lab-cert.js'
import { run } from './exec.js'
import { createLab, sweepLab, type Lab } from './netns.js'
import { preflight } from './preflight.js'
import type { Check } from './smoke-check.js'
import { chromiumChecks } from './smoke-chromium.js'
import { routeChecks } from './smoke-routes.js'
import { turnChecks } from './smoke-turn.js'
import { udpChecks } from './smoke-udp.js'
import { turnRestCredentials } from './turn-client.js'

const PREFIX = 'p2pw'
const HOSTS = [
  { name: 'cone1', nat: 'cone' },
  { name: 'cone2', nat: 'cone' },
  { name: 'sym1', nat: 'symmetric' },
  { name: 'sym2', nat: 'symmetric' },
  { name: 'open1', nat: 'public' },
] as const

async function main(): Promise<number> {
  const pre = await preflight()
  if (!pre.ok) {
    console.log(`nat-lab smoke skipped: ${pre.reason}`)
    return 0
  }
  const swept = await sweepLab(PREFIX)
  if (swept > 0) console.log(`removed ${swept} namespaces left by an earlier run`)
  const rootLinksBefore = await rootLinks()
  const timingsMs: Record<string, number> = {}
  const time = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const startMs = performance.now()
    try {
      return await f()
    } finally {
      timingsMs[label] = performance.now() - startMs
    }
  }
  const checks: Check[] = []
  const dir = mkdtempSync(join(tmpdir(), 'nat-lab-'))
  // It holds the TURN secret's config: removed on a signal too, not only at the end.
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true })
  cleanupOnExit(async () => removeDir(), removeDir)
  let lab: Lab | undefined
  let turn: Coturn | undefined
  try {
    lab = await time('createLab', () => createLab({ prefix: PREFIX, hosts: [...HOSTS] }))
    const l = lab
    checks.push({ name: 'root namespace links unchanged', ok: (await rootLinks()) === rootLinksBefore, detail: rootLinksBefore })
    checks.push(...(await time('routes', () => routeChecks(l))))
    checks.push(...(await time('udp', () => udpChecks(l))))
    const secret = randomBytes(24).toString('base64url')
    const tls = await labCertificate(dir, l.serverIp)
    turn = await time('startCoturn', () => startCoturn(l, { secret, dir, ...tls }))
    const t = turn
    checks.push(...(await time('turn', () => turnChecks(l, t, secret))))
    const credential = turnRestCredentials(secret, 'browser', Date.now() / 1000 + 3_600)
    checks.push(...(await time('chromium', () => chromiumChecks(l, l.host('cone1'), t, credential, dir))))
  } catch (err) {
    checks.push({ name: 'smoke run', ok: false, detail: (err as Error).stack ?? String(err) })
  } finally {
    await turn?.stop()
    if (lab !== undefined) await time('destroy', () => lab!.destroy())
    removeDir()
  }
  const left = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${PREFIX}-`))
  checks.push({ name: 'destroy leaves no namespace', ok: left.length === 0, detail: left.join(', ') || 'none left' })
  console.log(formatTable(['check', 'ok', 'detail'], checks.map((c) => [c.name, c.ok ? 'ok' : 'FAIL', c.detail])))
  console.log(`\ntimings (ms): ${Object.entries(timingsMs).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`)
  const failed = checks.filter((c) => !c.ok).length
  console.log(failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks FAILED`)
  return failed === 0 ? 0 : 1
}

/** Names of the root namespace's links: the lab must never add one. */
async function rootLinks(): Promise<string> {
  return (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? '').join(' ')
}

process.exitCode = await main()
