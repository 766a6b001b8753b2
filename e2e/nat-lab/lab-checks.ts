import { readFile } from 'node:fs/promises'
import type { Coturn } from './coturn.js'
import { runIn } from './exec.js'
import type { LabWorld } from './lab-world.js'
import type { Lab } from './netns.js'
import { turnAllocate, turnRestCredentials } from './turn-client.js'

export interface Check {
  name: string
  ok: boolean
  detail: string
}

/**
 * What the lab checks besides the matrix: coturn takes a credential in the
 * node's format and refuses an expired or forged one; the node's health answers
 * over TLS from a home (the docs/deploy.md command); the anchor joined; and the
 * TURN secret appears in nothing the node printed or a page or peer saw.
 */
export async function labChecks(lab: Lab, world: LabWorld, turn: Coturn, secret: string, seen: readonly string[]): Promise<Check[]> {
  const out: Check[] = []
  const home = lab.host('cone1')
  const nowSec = Math.floor(Date.now() / 1000)
  const tries: [string, { username: string; password: string }, boolean][] = [
    ['coturn takes a credential in the node\'s format', turnRestCredentials(secret, 'lab-valid', nowSec + 3600), true],
    ['coturn refuses an expired credential', turnRestCredentials(secret, 'lab-expired', nowSec - 60), false],
    ['coturn refuses a forged credential (wrong secret)', turnRestCredentials(`${secret}x`, 'lab-forged', nowSec + 3600), false],
  ]
  for (const [name, c, accept] of tries) {
    const r = await turnAllocate(lab, home.ns, { host: lab.serverIp, username: c.username, password: c.password })
    out.push({ name, ok: (r === 'ok') === accept, detail: r === 'ok' ? 'allocated a relay' : r.error.slice(0, 160) })
  }
  try {
    const { stdout } = await runIn(home.ns, 'curl', ['-sS', '--max-time', '5', '--cacert', world.certFile, `${world.pageUrl}health`], { timeoutMs: 10_000 })
    const h = JSON.parse(stdout) as Record<string, unknown>
    const count = (flag: string): number => world.command.split(' ').filter((w) => w === flag).length
    out.push({ name: 'GET /health over TLS from a home', ok: h.ok === true && h.stun === count('--stun') && h.turn === count('--turn'), detail: stdout.trim() })
  } catch (err) {
    out.push({ name: 'GET /health over TLS from a home', ok: false, detail: (err as Error).message.slice(0, 300) })
  }
  const anchor = /"msg":"anchor joined"/.test(world.output())
  out.push({ name: 'the anchor joined through wss://', ok: anchor, detail: anchor ? 'anchor joined' : world.output().slice(-300) })
  const places = [['the node\'s output', world.output()], ['pages and peers', seen.join('\n')], ['coturn\'s log', await readFile(turn.logFile, 'utf8').catch(() => '')]] as const
  for (const [where, text] of places) {
    const leaked = text.includes(secret)
    out.push({ name: `the TURN secret is not in ${where}`, ok: !leaked && text.length > 0, detail: `${text.length} characters searched${leaked ? ': FOUND' : ''}` })
  }
  return out
}
