import { turnCredential } from '../../signaling/ice.js'
import { CommandError, runIn } from './exec.js'
import { labNamespaces, type Lab } from './netns.js'

/** Where and as whom to allocate. */
export interface TurnTarget {
  /** The TURN server's address (the host part of the turn: URL). */
  host: string
  /** @default 3478 */
  port?: number
  username: string
  password: string
  /** @default 15_000 */
  timeoutMs?: number
}

/** Result of a TURN attempt: 'ok', or why it failed (`refused` for an error answer, `unreachable` for none). */
export type TurnResult = 'ok' | { error: string }

const UCLIENT = '/usr/bin/turnutils_uclient'
/** A peer for the channel binding uclient insists on: the discard port of the server itself; -n 0 sends it nothing. */
const DISCARD_PORT = '9'

/** TURN REST API credentials for `userId`, signed as the signaling node signs them (signaling/ice.ts). */
export function turnRestCredentials(secret: string, userId: string, expiresAtSeconds: number): { username: string; password: string } {
  const username = `${Math.floor(expiresAtSeconds)}:${userId}`
  return { username, password: turnCredential(secret, username) }
}

/**
 * Attempts one UDP TURN allocation from namespace `fromNs` with explicit
 * long-term credentials, using coturn's turnutils_uclient. Success is exit 0
 * with a "Received relay addr" line; coturn's refusal (401 for a forged or
 * expired credential; uclient retries, then gives up) is exit 255 with
 * "Cannot complete Allocation". No answer at all hangs uclient, so the timeout
 * means unreachable.
 *
 * The password is an argument of uclient (it has no other way to take it), so
 * pass ephemeral credentials only, never the shared secret.
 */
export async function turnAllocate(lab: Lab, fromNs: string, target: TurnTarget): Promise<TurnResult> {
  const out = await uclient(lab, fromNs, target, ['-n', '0', '-e', target.host, '-r', DISCARD_PORT])
  if (typeof out !== 'string') return out
  const relay = /Received relay addr: (\S+)/.exec(out)
  return relay !== null ? 'ok' : { error: `no relay address in uclient output: ${lastLine(out)}` }
}

/**
 * Two allocations from `fromNs` that send `messages` datagrams to each other's
 * relay address (uclient -y): the path of two symmetric-NAT peers meeting on
 * one TURN server. 'ok' when every message arrived.
 */
export async function turnRelayToRelay(lab: Lab, fromNs: string, target: TurnTarget, messages = 5): Promise<TurnResult> {
  const out = await uclient(lab, fromNs, target, ['-n', String(messages), '-y'])
  if (typeof out !== 'string') return out
  const forbidden = /error 403[^\n]*/.exec(out)
  if (forbidden !== null) return { error: `coturn refused the peer: ${forbidden[0]}` }
  const totals = /tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/m.exec(out)
  if (totals === null) return { error: `no totals in uclient output: ${lastLine(out)}` }
  const [sent, received] = [Number(totals[1]), Number(totals[2])]
  return sent > 0 && received === sent ? 'ok' : { error: `relayed ${received} of ${sent} messages` }
}

/** uclient's stdout on exit 0, else the failure; never puts the command line (it holds the password) in an error. */
async function uclient(lab: Lab, fromNs: string, target: TurnTarget, extra: string[]): Promise<string | { error: string }> {
  // Anywhere else (the root namespace) 198.18.0.1 might be routed off the machine.
  if (!labNamespaces(lab).includes(fromNs)) throw new Error(`${fromNs} is not a namespace of lab ${lab.prefix}`)
  const args = ['-v', '-c', '-p', String(target.port ?? 3478), '-u', target.username, '-w', target.password, ...extra, target.host]
  try {
    const { stdout, stderr } = await runIn(fromNs, UCLIENT, args, { timeoutMs: target.timeoutMs ?? 15_000 })
    return `${stdout}\n${stderr}`
  } catch (err) {
    if (!(err instanceof CommandError)) throw err
    const out = `${err.stdout}\n${err.stderr}`
    if (err.code === 'COMMAND_TIMEOUT') return { error: `unreachable: no answer from ${target.host}:${target.port ?? 3478} within ${target.timeoutMs ?? 15_000} ms` }
    if (/Cannot complete Allocation/.test(out)) return { error: `refused: allocation rejected (uclient exit ${err.exitCode})` }
    return { error: `uclient exit ${err.exitCode}: ${lastLine(out)}` }
  }
}

function lastLine(out: string): string {
  return out.trim().split('\n').at(-1) ?? ''
}
