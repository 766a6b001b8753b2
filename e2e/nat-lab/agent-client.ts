import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnIn, stopChild } from './exec.js'
import type { LabHost } from './netns.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** One event an agent reported (see agent.ts), stamped with when it arrived. */
export type AgentEvent = Record<string, unknown> & { ev: string }

/**
 * The lab's side of an agent (agent.ts) running Node peers in one lab host:
 * commands go down stdin, events come back on stdout and are kept in order.
 */
export class AgentClient {
  readonly events: AgentEvent[] = []
  private readonly child: ChildProcess
  private stderr = ''

  private constructor(readonly host: LabHost, url: string, ca: string) {
    this.child = spawnIn(host.ns, process.execPath, ['--import', 'tsx', join(ROOT, 'e2e', 'nat-lab', 'agent.ts'), '--url', url, '--ca', ca], {
      cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
    })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as AgentEvent)
      } catch {
        this.stderr += `(not JSON) ${line}\n`
      }
    })
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)))
  }

  /** Starts an agent in `host` and waits until it is ready (bounded). */
  static async start(host: LabHost, url: string, ca: string, timeoutMs = 30_000): Promise<AgentClient> {
    const a = new AgentClient(host, url, ca)
    await a.waitFor((e) => e.ev === 'ready', timeoutMs, 'ready')
    return a
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`)
  }

  /** The first event matching `pred`, waiting up to `timeoutMs`; undefined when none came. */
  async next(pred: (e: AgentEvent) => boolean, timeoutMs: number): Promise<AgentEvent | undefined> {
    const end = performance.now() + timeoutMs
    for (;;) {
      const hit = this.events.find(pred)
      if (hit !== undefined) return hit
      if (this.child.exitCode !== null) throw new Error(`agent in ${this.host.name} exited (${this.child.exitCode}): ${this.stderr.trim()}`)
      if (performance.now() > end) return undefined
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Like {@link next}, but throws naming `what` when nothing came. */
  async waitFor(pred: (e: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<AgentEvent> {
    const e = await this.next(pred, timeoutMs)
    if (e === undefined) {
      // What the agent said last (errors, the peer's own log lines) is the likeliest why.
      throw new Error(`agent in ${this.host.name}: no ${what} within ${timeoutMs} ms; last said: ${this.said()}; stderr: ${this.stderr.trim().slice(-500)}`)
    }
    return e
  }

  /** The agent's last errors and log lines (of peer `key`, or of all): why something did not come. */
  said(key?: string): string {
    const lines = this.events.filter((x) => (x.ev === 'error' || x.ev === 'log') && (key === undefined || x.key === key)).slice(-8)
    return lines.map((x) => JSON.stringify(x)).join('; ').slice(-1500) || 'nothing'
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.send({ cmd: 'exit' })
    await stopChild(this.child, 3000)
  }
}
