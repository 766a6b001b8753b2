import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

/** Options of {@link run} and {@link runIn}. */
export interface RunOptions {
  /** The command is killed (SIGKILL) and the promise rejects after this long. @default 10_000 */
  timeoutMs?: number
  /** Written to the command's stdin, which is then closed (`ip -batch -`, `iptables-restore`). */
  input?: string
  /** Added to this process's environment. */
  env?: Record<string, string>
}

/** What a command that exited 0 printed. */
export interface RunResult {
  readonly stdout: string
  readonly stderr: string
}

/** A command that exited non-zero, was killed or timed out; keeps what it printed. */
export class CommandError extends Error {
  constructor(
    readonly code: 'COMMAND_FAILED' | 'COMMAND_TIMEOUT',
    readonly commandLine: string,
    /** Exit status, or undefined when killed by a signal. */
    readonly exitCode: number | undefined,
    readonly stdout: string,
    readonly stderr: string,
    status: string,
  ) {
    super(`${commandLine}: ${status}: ${(stderr || stdout).trim().slice(-2_000)}`)
    this.name = 'CommandError'
  }
}

const DEFAULT_TIMEOUT_MS = 10_000
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024

/**
 * Runs a command in the root namespace, bounded by `timeoutMs`. Rejects with a
 * {@link CommandError} (command line, exit status, output) when it fails, times
 * out or prints more than 4 MiB.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...opts.env }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ stdout, stderr })
      const line = [cmd, ...args].join(' ')
      const exitCode = typeof err.code === 'number' ? err.code : undefined
      if (err.killed === true && typeof err.code !== 'string') return reject(new CommandError('COMMAND_TIMEOUT', line, exitCode, stdout, stderr, `killed after ${timeoutMs} ms`))
      reject(new CommandError('COMMAND_FAILED', line, exitCode, stdout, stderr || err.message, `exit ${err.code ?? err.signal ?? '?'}`))
    })
    // Without input the command must see EOF at once, or a tool reading stdin would hang until the timeout;
    // a command that exits without reading makes the write fail with EPIPE, which its exit status reports better.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(opts.input ?? '')
  })
}

/** {@link run} inside network namespace `ns` (`ip netns exec ns cmd ...args`). */
export function runIn(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts)
}

/**
 * Starts a long-lived command inside network namespace `ns`. `ip netns exec`
 * execs the command in place, so the child's pid is the command's own and
 * killing the ChildProcess kills the command.
 */
export function spawnIn(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], opts)
}

/** Resolves when `child` has exited, or after `timeoutMs` (then with false). */
export function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** SIGTERM, then SIGKILL if `child` has not exited after `graceMs`; resolves once it is gone (bounded). */
export async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  if (await exited(child, graceMs)) return
  child.kill('SIGKILL')
  await exited(child, graceMs)
}
