import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import type { ScenarioArgs, ScenarioResult } from './scenario.js'
import { findScenario } from './scenarios/index.js'
import { mergeVon, shardWindows, type VonRunInit } from './von-world.js'
import { VonShard, type VonShardResult } from './von-shard.js'

/**
 * A VON scenario split over worker threads, one shard each (peer i on worker
 * i mod N), with the window loop of `runVonSharded`: each worker runs its events
 * of one window, hands every other worker the records it made for it, and
 * applies theirs in shard order some windows later (see shardWindows). Same
 * seed and worker count, same result, and the same as `runVonSharded` in one thread.
 */

/** What a worker needs to rebuild the run: the scenario and its flags (functions do not cross threads). */
export interface ShardJob {
  readonly scenario: string
  readonly peers: number
  readonly seconds: number
  readonly seed: string
  readonly options: [string, string][]
  /** --event-costs: each worker times its events with its own wall clock. */
  readonly eventCosts: boolean
  readonly shard: number
  readonly shards: number
}

type FromWorker =
  | { t: 'progress'; f: number }
  | { t: 'done'; result: VonShardResult; busyMs: number; waitMs: number }
  | { t: 'error'; message: string }

const argsOf = (job: Omit<ShardJob, 'shard' | 'shards'>, progress: (f: number) => void): ScenarioArgs =>
  ({
    peers: job.peers,
    seconds: job.seconds,
    seed: job.seed,
    trace: undefined,
    options: new Map(job.options),
    progress,
    ...(job.eventCosts ? { eventClock: () => performance.now() } : {}),
  })

/** Builds the same run in any thread. */
export function vonInitOf(job: Omit<ShardJob, 'shard' | 'shards'>, progress: (f: number) => void): VonRunInit {
  const scenario = findScenario(job.scenario)
  if (scenario?.von === undefined) throw new Error(`scenario "${job.scenario}" cannot be split over workers (VON scenarios can)`)
  return scenario.von(argsOf(job, progress))
}

/** Main thread: starts one worker per shard on `entry` (a module that calls `runShardWorker`), merges their results. */
export async function runVonWorkers(entry: URL, job: Omit<ShardJob, 'shard' | 'shards'>, shards: number, progress: (f: number) => void): Promise<ScenarioResult> {
  const init = vonInitOf(job, () => {})
  // One channel per pair of shards.
  const ports: MessagePort[][] = Array.from({ length: shards }, () => [])
  for (let a = 0; a < shards; a++) {
    for (let b = a + 1; b < shards; b++) {
      const { port1, port2 } = new MessageChannel()
      ports[a]![b] = port1
      ports[b]![a] = port2
    }
  }
  const workers = Array.from({ length: shards }, (_, shard) => {
    const peerPorts = ports[shard]!
    const transfer = peerPorts.filter((p) => p !== undefined)
    return new Worker(entry, {
      workerData: { job: { ...job, shard, shards }, ports: peerPorts },
      transferList: transfer,
      // Workers share the process's semi-space flag (scripts/sim.mjs) but not its old-space one.
      resourceLimits: { maxOldGenerationSizeMb: 16384 },
    })
  })
  const done = await Promise.all(
    workers.map(
      (w, shard) =>
        new Promise<Extract<FromWorker, { t: 'done' }>>((resolve, reject) => {
          w.on('message', (m: FromWorker) => {
            if (m.t === 'progress') progress(m.f)
            else if (m.t === 'done') resolve(m)
            else reject(new Error(`shard ${shard}: ${m.message}`))
          })
          w.on('error', (err) => reject(err))
          w.on('exit', (code) => code !== 0 && reject(new Error(`shard ${shard} exited with ${code}`)))
        }),
    ),
  ).finally(() => Promise.all(workers.map((w) => w.terminate())))
  const merged = mergeVon(init, done.map((d) => d.result))
  // How well the split worked: time each worker ran events, and waited for the others at window ends.
  merged.metrics.shardBusySeconds = done.map((d) => (d.busyMs / 1000).toFixed(1)).join(' ')
  merged.metrics.shardWaitSeconds = done.map((d) => (d.waitMs / 1000).toFixed(1)).join(' ')
  const notes = findScenario(job.scenario)?.notes
  return notes === undefined ? merged : { ...merged, notes: notes(merged.metrics, argsOf(job, () => {})) }
}

/** Worker thread: runs one shard's window loop and posts its result. */
export async function runShardWorker(data: { job: ShardJob; ports: (MessagePort | undefined)[] }, parent: MessagePort): Promise<void> {
  const { job, ports } = data
  try {
    const init = vonInitOf(job, (f) => parent.postMessage({ t: 'progress', f } satisfies FromWorker))
    const shard = new VonShard(init, job.shard, job.shards)
    const inboxes = ports.map((port) => (port === undefined ? undefined : new Inbox(port)))
    let busy = 0
    let waited = 0
    const applyOldest = async (): Promise<void> => {
      const t1 = performance.now()
      for (const inbox of inboxes) {
        if (inbox === undefined) continue
        const b = inbox.take()
        shard.apply(b instanceof Promise ? await b : b)
      }
      waited += performance.now() - t1
    }
    const { windows, pendingAtEnd } = shardWindows(shard.endMs)
    for (const w of windows) {
      if (w.applyFirst) await applyOldest()
      const t0 = performance.now()
      shard.runBefore(w.end, w.horizon)
      busy += performance.now() - t0
      for (const [q, port] of ports.entries()) {
        if (port === undefined) continue
        const buffer = shard.outbox!.take(q)
        port.postMessage(buffer, [buffer])
      }
    }
    for (let i = 0; i < pendingAtEnd; i++) await applyOldest()
    shard.runToEnd()
    parent.postMessage({ t: 'done', result: shard.result(), busyMs: busy, waitMs: waited } satisfies FromWorker)
  } catch (err) {
    parent.postMessage({ t: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker)
  } finally {
    for (const port of ports) port?.close()
  }
}

/**
 * Buffers arriving on one port, taken in order. One that has arrived is taken
 * at once (receiveMessageOnPort): a 'message' listener sees it only when the
 * worker returns to its event loop, which it did at every window, and those
 * turns came to about 4 s of each worker's 24 s of waiting at 10,000 peers.
 */
class Inbox {
  constructor(private readonly port: MessagePort) {}

  take(): ArrayBuffer | Promise<ArrayBuffer> {
    const m = receiveMessageOnPort(this.port)
    if (m !== undefined) return m.message as ArrayBuffer
    return new Promise((resolve) => this.port.once('message', resolve))
  }
}
