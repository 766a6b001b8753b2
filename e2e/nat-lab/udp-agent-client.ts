import type { ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { spawnIn, stopChild } from './exec.js'

/** A datagram that reached an agent's socket. */
export interface Datagram {
  /** The agent socket it arrived on. */
  readonly id: string
  /** Its source as the receiver saw it (after any NAT on the way). */
  readonly ip: string
  readonly port: number
  readonly text: string
}

/** UDP sockets inside a namespace, driven from this process (see udp-agent.ts). */
export interface UdpAgent {
  /** Binds socket `id` (port 0: any) and resolves with its local port. */
  bind(id: string, port?: number, ip?: string): Promise<number>
  send(id: string, ip: string, port: number, text: string): void
  /** Calls `listener` with every datagram that arrives from now on, until the returned function is called. */
  onDatagram(listener: (d: Datagram) => void): () => void
  /** Every datagram received so far. */
  readonly received: readonly Datagram[]
  stop(): Promise<void>
}

const AGENT = join(dirname(fileURLToPath(import.meta.url)), 'udp-agent.ts')
const BIND_TIMEOUT_MS = 10_000

/** Starts udp-agent.ts in namespace `ns` (through tsx, so it takes a few hundred ms). */
export function startUdpAgent(ns: string): UdpAgent {
  const child: ChildProcess = spawnIn(ns, process.execPath, ['--import', 'tsx', AGENT], { stdio: ['pipe', 'pipe', 'inherit'] })
  const received: Datagram[] = []
  const listeners = new Set<(d: Datagram) => void>()
  const bound = new Map<string, (port: number) => void>()
  // A dead agent fails the checks that wait on it; a write to it must not crash this process.
  child.stdin!.on('error', () => undefined)
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const ev = JSON.parse(line) as { ev: string; id: string; port: number; ip: string; text: string; message?: string }
    if (ev.ev === 'bound') bound.get(ev.id)?.(ev.port)
    else if (ev.ev === 'error') console.error(`udp agent in ${ns}: ${ev.message}`)
    else if (ev.ev === 'msg') {
      const d: Datagram = { id: ev.id, ip: ev.ip, port: ev.port, text: ev.text }
      received.push(d)
      for (const l of listeners) l(d)
    }
  })
  const command = (cmd: object): void => {
    child.stdin!.write(`${JSON.stringify(cmd)}\n`)
  }
  return {
    received,
    bind(id, port = 0, ip) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`udp agent in ${ns}: bind ${id} timed out`)), BIND_TIMEOUT_MS)
        bound.set(id, (p) => {
          clearTimeout(timer)
          resolve(p)
        })
        command({ op: 'bind', id, port, ip })
      })
    },
    send(id, ip, port, text) {
      command({ op: 'send', id, ip, port, text })
    },
    onDatagram(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async stop() {
      child.stdin!.end()
      await stopChild(child)
    },
  }
}
