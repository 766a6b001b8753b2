import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const START_TIMEOUT_MS = 60_000

/** `npm start` in a child process (so a test can kill it for real). */
export interface ServerProcess {
  readonly url: string
  readonly port: number
  /** SIGKILL: the node dies without closing a socket. */
  kill(): Promise<void>
  /** SIGINT: the node shuts down cleanly. */
  stop(): Promise<void>
}

/**
 * Starts `signaling/start.ts` on 127.0.0.1:`port` (0: a free one) and resolves
 * once it listens. The client must be built already (the e2e global setup does),
 * or the child builds it first.
 */
export function startServerProcess(port = 0): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'signaling/start.ts'), '--host', '127.0.0.1', '--port', String(port), '--log-level', 'silent'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const end = (signal: NodeJS.Signals) => async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
    await exited
  }
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms: ${out}`))
    }, START_TIMEOUT_MS)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /open (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out)
      if (m === null) return
      clearTimeout(timer)
      resolve({ url: m[1]!, port: Number(m[2]), kill: end('SIGKILL'), stop: end('SIGINT') })
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}): ${out}`))
    })
  })
}

export { ROOT }
