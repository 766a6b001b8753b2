import { readdirSync, readFileSync } from 'node:fs'

/** One process of a tree, from /proc (Linux). */
export interface ProcInfo {
  pid: number
  /** Chromium's role (`--type=renderer` ...), 'browser' for the main process, else the command name. */
  kind: string
  /** CPU time used so far (user + system), seconds. */
  cpuSeconds: number
  rssMiB: number
  /** Proportional set size: shared pages split among their users (what N processes really cost together). */
  pssMiB: number | undefined
}

const TICKS_PER_SEC = 100

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Parent pid and CPU ticks of a process. */
function stat(pid: number): { ppid: number; ticks: number } | undefined {
  const s = read(`/proc/${pid}/stat`)
  if (s === undefined) return undefined
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }
}

function kib(text: string | undefined, key: string): number | undefined {
  const m = text === undefined ? null : new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text)
  return m === null ? undefined : Number(m[1])
}

function kindOf(pid: number): string {
  // Chromium rewrites its command line into one space-separated string.
  const argv = (read(`/proc/${pid}/cmdline`) ?? '').split(/[\0 ]/)
  const type = argv.find((a) => a.startsWith('--type='))
  if (type !== undefined) return type.slice('--type='.length)
  return /chrom/i.test(argv[0] ?? '') ? 'browser' : (argv[0]?.split('/').pop() ?? '?')
}

/** Every descendant of `root` whose command matches `match` (default: Chromium's), with CPU and memory. */
export function processTree(root: number, match: RegExp = /chrom/i, withPss = true): ProcInfo[] {
  const parent = new Map<number, number>()
  const ticks = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const s = stat(pid)
    if (s === undefined) continue
    parent.set(pid, s.ppid)
    ticks.set(pid, s.ticks)
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) if (p === root) return true
    return false
  }
  const out: ProcInfo[] = []
  for (const pid of parent.keys()) {
    if (!under(pid) || !match.test((read(`/proc/${pid}/cmdline`) ?? '').split('\0')[0] ?? '')) continue
    const rss = kib(read(`/proc/${pid}/status`), 'VmRSS')
    if (rss === undefined) continue
    const pss = withPss ? kib(read(`/proc/${pid}/smaps_rollup`), 'Pss') : undefined
    out.push({ pid, kind: kindOf(pid), cpuSeconds: ticks.get(pid)! / TICKS_PER_SEC, rssMiB: rss / 1024, pssMiB: pss === undefined ? undefined : pss / 1024 })
  }
  return out
}

/**
 * CPU used by a process tree over time: processes come and go, so each sample
 * adds what every live process used since it was last seen.
 */
export class TreeCpu {
  private last = new Map<number, number>()
  /** CPU seconds per kind since `reset()`. */
  readonly byKind = new Map<string, number>()

  /** Adds a sample; the first sample after a reset only sets the baseline. */
  add(procs: readonly ProcInfo[], baseline = false): void {
    const next = new Map<number, number>()
    for (const p of procs) {
      next.set(p.pid, p.cpuSeconds)
      const used = p.cpuSeconds - (this.last.get(p.pid) ?? 0)
      if (!baseline) this.byKind.set(p.kind, (this.byKind.get(p.kind) ?? 0) + used)
    }
    this.last = next
  }

  get total(): number {
    let t = 0
    for (const v of this.byKind.values()) t += v
    return t
  }
}
