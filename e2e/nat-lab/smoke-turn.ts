import { readFileSync, statSync } from 'node:fs'
import type { Coturn } from './coturn.js'
import { runIn } from './exec.js'
import type { Lab } from './netns.js'
import type { Check } from './smoke-check.js'
import { turnAllocate, turnRelayToRelay, turnRestCredentials, type TurnResult } from './turn-client.js'

const HOUR_S = 3_600

/**
 * coturn in the lab: STUN sees a home host's router, a fresh REST credential
 * allocates (from a cone and a symmetric home), expired, forged and tampered
 * ones are refused, two allocations relay to each other, and the secret stays
 * out of the log.
 */
export async function turnChecks(lab: Lab, turn: Coturn, secret: string): Promise<Check[]> {
  const nowS = Math.floor(Date.now() / 1000)
  const host = lab.serverIp
  const valid = turnRestCredentials(secret, 'alice', nowS + HOUR_S)
  const expired = turnRestCredentials(secret, 'alice', nowS - 60)
  const forged = turnRestCredentials('not-the-secret', 'alice', nowS + HOUR_S)
  const tampered = { username: `${nowS + 10 * HOUR_S}:alice`, password: valid.password }
  const cone = lab.host('cone1')
  const sym = lab.host('sym1')
  const expect = (name: string, result: TurnResult, wantOk: boolean, okDetail = 'allocated (uclient exit 0, relay addr)'): Check => ({
    name,
    ok: (result === 'ok') === wantOk,
    detail: result === 'ok' ? okDetail : result.error,
  })
  const stun = await runIn(cone.ns, '/usr/bin/turnutils_stunclient', [host], { timeoutMs: 3_000 }).then((r) => r.stdout, (err: Error) => err.message)
  const seen = /UDP reflexive addr: (\S+)/.exec(stun)?.[1] ?? 'no answer'
  const checks: Check[] = [{ name: 'STUN from cone1 sees its router', ok: seen.startsWith(`${cone.publicIp}:`), detail: seen }]
  const [fromCone, fromSym, old, fake, changed, relay] = await Promise.all([
    turnAllocate(lab, cone.ns, { host, ...valid }),
    turnAllocate(lab, sym.ns, { host, ...valid }),
    turnAllocate(lab, cone.ns, { host, ...expired }),
    turnAllocate(lab, cone.ns, { host, ...forged }),
    turnAllocate(lab, cone.ns, { host, ...tampered }),
    turnRelayToRelay(lab, sym.ns, { host, ...valid }),
  ])
  checks.push(
    expect('TURN allocate, valid credential, from cone1', fromCone, true),
    expect('TURN allocate, valid credential, from sym1', fromSym, true),
    expect('TURN allocate, expired credential', old, false),
    expect('TURN allocate, forged (wrong secret)', fake, false),
    expect('TURN allocate, expiry changed after signing', changed, false),
    expect('TURN relay -> relay on one server (sym1)', relay, true, 'every datagram arrived (uclient -y)'),
  )
  const log = readFileSync(turn.logFile, 'utf8')
  const mode = statSync(turn.configFile).mode & 0o777
  checks.push({ name: 'secret only in the 0600 config', ok: !log.includes(secret) && mode === 0o600, detail: `log ${log.includes(secret) ? 'HAS' : 'lacks'} it, config mode ${mode.toString(8)}` })
  return checks
}
