import { spawn, type ChildProcess } from 'node:child_process'
import { chromium, type Browser, type LaunchOptions } from 'playwright-core'
import { chromiumPath } from './chromium-path.js'

/**
 * The system Chromium through playwright-core: `npx playwright install` cannot
 * download browsers on this machine, so benchmarks and screenshots drive
 * $CHROMIUM, else /usr/bin/chromium or another usual path (bench/lib/chromium-path.ts).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
]

export function launchChromium(options: Omit<LaunchOptions, 'executablePath' | 'args'> = {}): Promise<Browser> {
  return chromium.launch({ ...options, executablePath: chromiumPath(), args: CHROMIUM_ARGS })
}

/** `npm start` on a free port (building the client if stale); resolves with its URL once it listens. */
export function startServer(): Promise<{ url: string; proc: ChildProcess; stop(): void }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'signaling/start.ts', '--port', '0', '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /open (http:\/\/\S+?)\/? /.exec(out)
      if (m !== null) resolve({ url: `${m[1]}/`, proc, stop: () => proc.kill('SIGINT') })
    })
    proc.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)))
  })
}
