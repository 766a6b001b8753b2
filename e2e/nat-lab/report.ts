import { formatTable } from '../../bench/lib/table.js'
import { verdict, type LabCase } from './expectations.js'
import type { Check } from './lab-checks.js'

const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(v < 10 ? 2 : 0)} ms`)

/** Prints the matrix and the checks; returns how many things failed. */
export function printReport(cases: readonly LabCase[], checks: readonly Check[]): number {
  let failures = 0
  const rows = cases.map((c) => {
    const v = verdict(c)
    failures += v.length
    return [
      c.client, `${c.a} -> ${c.b}`, c.nats, c.ice, c.connected ? 'yes' : 'no', c.expected.connect ? `yes (${c.expected.paths.join('/')})` : 'no',
      ms(c.openMs), c.path ?? '-', c.latencyMs === undefined ? '-' : c.latencyMs.n === 0 ? `none of ${c.latencyMs.sent} arrived` : `${ms(c.latencyMs.p50)} (max ${ms(c.latencyMs.max)}, ${c.latencyMs.n}/${c.latencyMs.sent})`,
      c.connected ? '' : (c.cause ?? '-'), v.length === 0 ? 'ok' : `FAIL: ${v.join('; ')}`,
    ]
  })
  console.log(formatTable(['client', 'pair (dialer last)', 'NATs', 'ICE', 'connected', 'expected', 'time to open', 'path (dialer: local/remote)', 'move latency p50', 'reason', 'verdict'], rows))
  const details = cases.filter((c) => !c.connected && c.detail !== undefined)
  if (details.length > 0) {
    console.log('\nWhy the links that did not open failed (the link layer\'s cause and facts):')
    for (const c of details) console.log(`  ${c.client} ${c.a} -> ${c.b} ${c.ice}: ${c.cause}: ${c.detail}`)
  }
  for (const c of cases) {
    if (verdict(c).length === 0 || c.trace === undefined) continue
    console.log(`\nWhat the agents reported of ${c.a} -> ${c.b} ${c.ice}:\n  ${c.trace.join('\n  ')}`)
  }
  const caseChecks = cases.flatMap((c) => (c.checks ?? []).map((k) => ({ ...k, name: `${c.client} ${c.a} -> ${c.b} ${c.ice}: ${k.name}` })))
  const all = [...caseChecks, ...checks]
  console.log(`\n${formatTable(['check', 'ok', 'detail'], all.map((k) => [k.name, k.ok ? 'ok' : 'FAIL', k.detail.replace(/\s+/g, ' ').slice(0, 140)]))}`)
  failures += checks.filter((k) => !k.ok).length
  return failures
}
