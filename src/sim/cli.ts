/**
 * npm run sim -- --scenario NAME [--peers N] [--seconds S] [--seed X] [--out DIR] [--trace]
 *                [--workers N] [--event-costs] [--world W] [--aoi R] [--speed V] [--steps-per-sec H] ...
 *                [--nat SHARES] [--stun on|off] [--turn on|off] [--turn-extra-ms N] [--relay on|off] [--sdp-bytes N]
 *                [--mobility NAME] [--tracks FILE] [--write-tracks FILE]
 *                [--adversaries F --attack KIND[,KIND...]|all [--sybils K]] [--tickets on|off]
 *
 * Runs one scenario of the deterministic simulator with a progress bar, then
 * writes DIR/metrics.json, DIR/series.json (the report's time series, for
 * plotting elsewhere), DIR/report.html and, with --trace, DIR/trace.jsonl.
 * With --workers N (VON scenarios), the world is split over N threads. With
 * --event-costs (VON scenarios), it also prints and writes
 * DIR/event-costs.json: the wall time of the measured window by kind of event.
 */
import { formatEventCosts } from './event-costs.js'
import { formatTrafficRows } from './traffic.js'
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { renderReport } from './report.js'
import type { MetricValue, ScenarioResult, TraceSink } from './scenario.js'
import { SCENARIOS, findScenario } from './scenarios/index.js'
import { runShardWorker, runVonWorkers, type ShardJob } from './von-parallel.js'
import { readTracksFile } from './replay-file.js'
import { ATTACK_KINDS } from './adversaries.js'

function parse(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}" (flags look like --name value)`)
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith('--')) {
      out.set(a.slice(2), next)
      i++
    } else out.set(a.slice(2), 'true')
  }
  return out
}

/** The NAT flags of VON scenarios (src/sim/nat-model.ts, docs/nat-model.md). */
const NAT_USAGE = `NATs and relaying (VON scenarios): [--nat SHARES] [--stun on|off] [--turn on|off] [--turn-extra-ms N] [--relay on|off] [--sdp-bytes N]
  --nat open:0.1,eim:0.13,restricted:0.61,symmetric:0.16   shares of NAT classes (sum 1; a class left out is 0), or 'default' for
        the published shares (docs/nat-model.md); every peer public if left out (the nat and relay-failure scenarios: 'default')
  --stun (default on)  --turn (default off)  --turn-extra-ms: TURN's extra one-way delay (default 20)
  --relay off: no peer relays for others (what relaying through peers saves: docs/relays.md)
  --sdp-bytes N: each offer and answer carries N bytes, as a browser's SDP (default 0: the simulator's dozen bytes)`

/** The hostile-peer flags of VON scenarios (src/sim/adversaries.ts, docs/results/adversaries.md). */
const HOSTILE_USAGE = `Hostile peers (VON scenarios): [--adversaries F --attack KIND[,KIND...]|all [--sybils K]] [--tickets on|off]
  --adversaries F: that share of the peers is hostile; --attack: ${ATTACK_KINDS.join(', ')}, or all; --sybils: identities per victim (default 8)
  --tickets off: the bootstrap node issues no join tickets (src/von/join-tickets.ts), so any joiner hears of the nodes around any place`

/** The mobility flags of VON scenarios (src/sim/mobility.ts, src/sim/replay.ts, docs/mobility.md). */
const MOBILITY_USAGE = `Mobility (VON scenarios): [--mobility NAME] [--tracks FILE] [--write-tracks FILE]
  --mobility waypoint|random|hotspot|flash|keyboard|replay   how peers move (default: the scenario's; random = waypoint, VAST's)
        keyboard: arrow keys held alone or in pairs, changed every 0.3-3 s, pauses, 10 % idle players
        replay: positions from --tracks FILE (JSON, or gzip; docs/mobility.md): the file sets the peers, world and
        steps per second; give the --seconds (--join-seconds, --settle-seconds) it was written with
  --write-tracks FILE   write the positions the run's mobility produced (FILE.gz: gzipped), for --mobility replay`

function usage(): string {
  const names = SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n')
  return `usage: npm run sim -- --scenario NAME [--peers N] [--seconds S] [--seed X] [--out DIR] [--trace] [--workers N] [--event-costs]\nscenarios:\n${names}\n${NAT_USAGE}\n${MOBILITY_USAGE}\n${HOSTILE_USAGE}`
}

class ProgressBar {
  private last = -1
  private readonly tty = process.stderr.isTTY === true
  private readonly started = performance.now()
  peakRss = process.memoryUsage().rss

  update(fraction: number): void {
    const rss = process.memoryUsage().rss
    if (rss > this.peakRss) this.peakRss = rss
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)))
    if (pct === this.last) return
    this.last = pct
    const mb = (rss / 2 ** 20).toFixed(0)
    if (this.tty) {
      const filled = Math.round(pct / 2.5)
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(40 - filled)}] ${String(pct).padStart(3)} %  ${mb} MiB`)
    } else if (pct % 10 === 0) {
      // Logs of long runs show where the wall time went.
      process.stderr.write(`${pct} % (${mb} MiB, ${((performance.now() - this.started) / 1000).toFixed(0)} s)\n`)
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n')
  }
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2))
  const name = args.get('scenario')
  if (name === undefined || args.has('help')) {
    console.error(usage())
    return name === undefined && !args.has('help') ? 2 : 0
  }
  const scenario = findScenario(name)
  if (scenario === undefined) {
    console.error(`unknown scenario "${name}"\n${usage()}`)
    return 2
  }
  const num = (key: string, dflt: number): number => {
    const raw = args.get(key)
    const v = raw === undefined ? dflt : Number(raw)
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${key} must be a positive number, got "${raw}"`)
    return v
  }
  const mobilityFlags = ['mobility', 'tracks', 'write-tracks'].filter((k) => args.has(k))
  if (mobilityFlags.length > 0 && scenario.von === undefined) throw new Error(`--${mobilityFlags[0]}: scenario "${name}" has no mobility (VON scenarios do)`)
  // A replay has as many peers as its file has tracks.
  const tracksFile = args.get('mobility') === 'replay' && !args.has('peers') ? args.get('tracks') : undefined
  const filePeers = tracksFile === undefined || tracksFile === 'true' ? undefined : readTracksFile(tracksFile).tracks.length
  const peers = Math.round(num('peers', filePeers ?? scenario.defaults.peers))
  const seconds = num('seconds', scenario.defaults.seconds)
  const seed = args.get('seed') ?? '1'
  const out = args.get('out') ?? join('out', `${name}-${peers}-${seed}`)
  mkdirSync(out, { recursive: true })
  let traceStream: WriteStream | undefined
  let trace: TraceSink | undefined
  if (args.get('trace') === 'true') {
    traceStream = createWriteStream(join(out, 'trace.jsonl'))
    trace = { write: (record) => traceStream!.write(JSON.stringify(record) + '\n') }
  }
  const workers = Math.round(num('workers', 1))
  if (workers > 1 && scenario.von === undefined) throw new Error(`--workers: scenario "${name}" cannot be split (VON scenarios can)`)
  if (workers > 1 && trace !== undefined) throw new Error('--trace needs an unsplit run (leave out --workers)')
  if (workers > 1 && args.has('write-tracks')) throw new Error('--write-tracks needs an unsplit run (leave out --workers)')
  const eventCosts = args.get('event-costs') === 'true'
  if (eventCosts && scenario.von === undefined) throw new Error(`--event-costs: scenario "${name}" does not time its events (VON scenarios do)`)
  const options = new Map([...args].filter(([k]) => !['scenario', 'peers', 'seconds', 'seed', 'out', 'trace', 'workers', 'event-costs'].includes(k)))
  const command = `npm run sim -- ${process.argv.slice(2).join(' ')}`
  console.error(`${scenario.name}: ${peers} peers, ${seconds} virtual s, seed ${seed} -> ${out}`)

  const bar = new ProgressBar()
  const started = performance.now()
  let result: ScenarioResult
  if (workers > 1) {
    const job: Omit<ShardJob, 'shard' | 'shards'> = { scenario: scenario.name, peers, seconds, seed, options: [...options], eventCosts }
    result = await runVonWorkers(new URL(import.meta.url), job, workers, (f) => bar.update(f))
  } else {
    result = scenario.run({ peers, seconds, seed, trace, options, progress: (f) => bar.update(f), ...(eventCosts ? { eventClock: () => performance.now() } : {}) })
  }
  bar.update(1)
  bar.done()
  traceStream?.end()

  const metrics: Record<string, MetricValue> = {
    scenario: scenario.name,
    seed,
    peers,
    seconds,
    ...result.metrics,
    wallSeconds: (performance.now() - started) / 1000,
    peakMemoryBytes: bar.peakRss,
    peakMemoryBytesPerPeer: bar.peakRss / peers,
  }
  const traffic = result.traffic === undefined ? {} : { trafficByType: result.traffic }
  writeFileSync(join(out, 'metrics.json'), JSON.stringify({ ...metrics, ...traffic }, null, 2) + '\n')
  writeFileSync(join(out, 'series.json'), JSON.stringify(result.series) + '\n')
  writeFileSync(
    join(out, 'report.html'),
    renderReport({ title: `${scenario.name}: ${peers} peers`, command, metrics, series: result.series, overlay: result.overlay, notes: result.notes, traffic: result.traffic }),
  )
  for (const note of result.notes ?? []) console.log(note)
  for (const [k, v] of Object.entries(metrics)) console.log(`${k.padEnd(34)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(5) : v}`)
  if (result.traffic !== undefined) console.log(`\nsent per peer per second by message type (measured peers, measured window):\n${formatTrafficRows(result.traffic)}\n`)
  const written = [join(out, 'metrics.json'), join(out, 'series.json'), join(out, 'report.html')]
  if (trace) written.push(join(out, 'trace.jsonl'))
  if (args.has('write-tracks')) written.push(args.get('write-tracks')!)
  if (result.eventCosts !== undefined) {
    console.log(`\nwall time of the measured window by kind of event${workers > 1 ? ` (summed over ${workers} workers)` : ''}:`)
    console.log(formatEventCosts(result.eventCosts))
    writeFileSync(join(out, 'event-costs.json'), JSON.stringify(result.eventCosts, null, 2) + '\n')
    written.push(join(out, 'event-costs.json'))
  }
  console.log(`wrote ${written.join(', ')}`)
  return 0
}

if (isMainThread) {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`)
      process.exitCode = 2
    },
  )
} else {
  // A shard of a split run (see von-parallel.ts).
  void runShardWorker(workerData as Parameters<typeof runShardWorker>[0], parentPort!)
}
