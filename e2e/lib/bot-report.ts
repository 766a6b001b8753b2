import { formatTable } from '../../bench/lib/table.js'
import { mean, percentile } from '../../bench/lib/stats.js'
import { sampleConsistency, type Observed } from '../../src/sim/von-metrics.js'
import type { Bot } from './bot.js'

/** What a run was, for the report and the JSON record. */
export interface RunFacts {
  command: string
  url: string
  world: string
  behaviour: string
  count: number
  seconds: number
  seed: string
  startedAt: string
  machine: string
}

/** What the run cost, measured from all bots opened to the end. */
export interface RunCosts {
  wallSeconds: number
  /** Per bot: its page's main-thread task time over the window, seconds (wall time of tasks: it grows when the host is loaded). */
  taskSeconds: number[]
  /** Per bot: JS heap in use at the end, after a full garbage collection. */
  heapMiB: number[]
  /** Chromium's process tree: CPU seconds by process kind over the window. */
  cpuByKind: Record<string, number>
  memory: { pssMeanMiB: number; rssMeanMiB: number; pssPeakMiB: number; rssPeakMiB: number; processes: number; renderers: number }
}

/**
 * Topology consistency among the bots, as the simulator defines it: of the bots
 * truly inside each bot's AOI, the share it knows. Snapshots are taken one after
 * another, so positions are a few ms apart (at 50 units/s, well under a unit).
 */
export function botConsistency(bots: readonly Bot[]): { value: number; driftMean: number; truth: number } {
  const live = bots.filter((b) => b.joinedAt !== undefined && b.last !== undefined)
  const indexOf = new Map(live.map((b) => [b.last!.id, b.index]))
  const observed: Observed[] = live.map((b) => {
    const s = b.last!
    const known = new Map<number, { x: number; y: number }>()
    for (const n of s.neighbours) {
      const j = indexOf.get(n.id)
      if (j !== undefined) known.set(j, { x: n.x, y: n.y })
    }
    return { index: b.index, x: s.x, y: s.y, aoi: s.aoi, known }
  })
  const s = sampleConsistency(observed)
  return { value: s.truth === 0 ? 1 : s.hits / s.truth, driftMean: s.hits === 0 ? 0 : s.driftSum / s.hits, truth: s.truth }
}

const inAoi = (b: Bot): number => {
  const s = b.last
  return s === undefined ? 0 : s.neighbours.filter((n) => Math.hypot(n.x - s.x, n.y - s.y) < s.aoi).length
}

/** Open links by path kind over every bot (each link counted at both ends), the ICE configurations seen, failed attempts. */
export function linkPaths(bots: readonly Bot[]): { kinds: Record<string, number>; ice: string[]; failed: number; failedCodes: string[] } {
  const kinds: Record<string, number> = {}
  const ice = new Set<string>()
  const codes = new Set<string>()
  let failed = 0
  for (const b of bots) {
    const s = b.last
    if (s === undefined) continue
    for (const [k, n] of Object.entries(s.paths)) kinds[k] = (kinds[k] ?? 0) + n
    ice.add(`${s.ice.summary} (${s.ice.source})`)
    failed += s.failedLinks.length
    for (const f of s.failedLinks) codes.add(f.code)
  }
  return { kinds, ice: [...ice], failed, failedCodes: [...codes] }
}

/** One line of the live summary. */
export function summaryLine(bots: readonly Bot[], elapsedSeconds: number, opened: number): string {
  const joined = bots.filter((b) => b.last?.peerState === 'joined')
  const c = botConsistency(bots)
  const latencies = bots.map((b) => b.moveLatencyMs[b.moveLatencyMs.length - 1]).filter((x): x is number => x !== undefined)
  const errors = bots.reduce((s, b) => s + b.errors, 0)
  const parts = [
    `[${elapsedSeconds.toFixed(0).padStart(4)} s]`,
    `opened ${opened}/${bots.length}`,
    `joined ${joined.length}`,
    `in AOI ${joined.length === 0 ? '-' : mean(joined.map(inAoi)).toFixed(1)}`,
    `consistency ${c.truth === 0 ? '-' : c.value.toFixed(3)}`,
    `drift ${c.driftMean.toFixed(1)}`,
    `links ${joined.length === 0 ? '-' : mean(joined.map((b) => b.last!.links.open)).toFixed(1)}`,
    `move latency p50 ${latencies.length === 0 ? 'n/a' : `${percentile(latencies, 50).toFixed(2)} ms`}`,
    `chat ${bots.reduce((s, b) => s + b.chatSent, 0)}/${bots.reduce((s, b) => s + b.chatHeard, 0)}`,
    `errors ${errors}`,
  ]
  return parts.join(' | ')
}

/** The final report: a table per bot, the process tree's CPU and memory, errors. */
export function finalReport(facts: RunFacts, bots: readonly Bot[], costs: RunCosts): { text: string; json: unknown; errors: number } {
  const wall = Math.max(1e-9, costs.wallSeconds)
  const rows = bots.map((b, i) => [
    b.label,
    b.last?.id.slice(0, 8) ?? '-',
    b.joinedAt === undefined || b.openedAt === undefined ? 'no' : `${((b.joinedAt - b.openedAt) / 1000).toFixed(1)} s`,
    b.samples.n === 0 ? NaN : b.samples.neighbours / b.samples.n,
    b.samples.n === 0 ? NaN : b.samples.links / b.samples.n,
    `${b.chatSent}/${b.chatHeard}`,
    (100 * costs.taskSeconds[i]!) / wall,
    costs.heapMiB[i]!,
    b.errors,
  ])
  const table = formatTable(['bot', 'id', 'joined', 'in AOI (mean)', 'links (mean)', 'chat sent/heard', 'page busy %', 'JS heap MiB (after GC)', 'errors'], rows)
  const cpuTotal = Object.values(costs.cpuByKind).reduce((s, x) => s + x, 0)
  const kinds = Object.entries(costs.cpuByKind).sort((a, b) => b[1] - a[1]).map(([k, s]) => `${k} ${((100 * s) / wall).toFixed(1)} %`).join(', ')
  const n = bots.length
  const m = costs.memory
  const c = botConsistency(bots)
  const latencies = bots.flatMap((b) => b.moveLatencyMs)
  const errors = bots.reduce((s, b) => s + b.errors, 0)
  const paths = linkPaths(bots)
  const perBot = {
    cpuPercent: (100 * cpuTotal) / wall / n,
    pssMiB: m.pssMeanMiB / n,
    rssMiB: m.rssMeanMiB / n,
    pageCpuPercentMean: (100 * mean(costs.taskSeconds)) / wall,
    jsHeapMiBMean: mean(costs.heapMiB),
  }
  const lines = [
    '',
    `${facts.command}  (${facts.startedAt}; ${facts.machine})`,
    table,
    '',
    `Chromium process tree over ${wall.toFixed(0)} s: ${m.processes} processes (${m.renderers} renderers), CPU ${((100 * cpuTotal) / wall).toFixed(1)} % of one core (${kinds});`,
    `memory PSS mean ${m.pssMeanMiB.toFixed(0)} MiB (peak ${m.pssPeakMiB.toFixed(0)}), RSS mean ${m.rssMeanMiB.toFixed(0)} MiB (peak ${m.rssPeakMiB.toFixed(0)}; RSS counts shared pages once per process).`,
    `Per bot: CPU ${perBot.cpuPercent.toFixed(1)} % of a core (its page's main thread busy ${perBot.pageCpuPercentMean.toFixed(1)} % of the time: task wall time, which counts waits for a core on a loaded host), PSS ${perBot.pssMiB.toFixed(0)} MiB, RSS ${perBot.rssMiB.toFixed(0)} MiB, JS heap ${perBot.jsHeapMiBMean.toFixed(1)} MiB after a full GC.`,
    `Topology consistency at the end ${c.truth === 0 ? '- (no bot inside another\'s AOI)' : c.value.toFixed(3)}, drift ${c.driftMean.toFixed(1)} units.`,
    `Move latency ${latencies.length === 0 ? 'not exposed by the pages (no moveLatency in the window.__world snapshot)' : `(the pages' own estimates, half their links' RTT, sampled every 2 s): p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`}.`,
    `Link paths at the end: ${Object.entries(paths.kinds).map(([k, v]) => `${k} ${v}`).join(', ')}; ICE ${paths.ice.join(', ') || '-'}; failed attempts in the last minute ${paths.failed}${paths.failedCodes.length > 0 ? ` (${paths.failedCodes.join(', ')})` : ''}.`,
    `Errors: ${errors}`,
    ...bots.flatMap((b) => b.errorLog.map((e) => `  ${b.label}: ${e}`)),
  ]
  const json = {
    ...facts,
    wallSeconds: costs.wallSeconds,
    perBot,
    processTree: { cpuPercentByKind: Object.fromEntries(Object.entries(costs.cpuByKind).map(([k, s]) => [k, (100 * s) / wall])), ...m },
    consistencyAtEnd: c.truth === 0 ? null : c.value,
    driftMeanAtEnd: c.driftMean,
    moveLatencyMs: latencies.length === 0 ? null : { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    linkPaths: paths,
    errors,
    bots: bots.map((b, i) => ({
      bot: b.label, id: b.last?.id, joinSeconds: b.joinedAt === undefined || b.openedAt === undefined ? null : (b.joinedAt - b.openedAt) / 1000,
      aoiNeighboursMean: b.samples.n === 0 ? null : b.samples.neighbours / b.samples.n, linksMean: b.samples.n === 0 ? null : b.samples.links / b.samples.n,
      chatSent: b.chatSent, chatHeard: b.chatHeard, pageCpuPercent: (100 * costs.taskSeconds[i]!) / wall, jsHeapMiB: costs.heapMiB[i], errors: b.errorLog,
    })),
  }
  return { text: lines.join('\n'), json, errors }
}
