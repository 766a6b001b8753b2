import { readFileSync } from 'node:fs'

/** Resident memory of a process from /proc (Linux): current and peak, in MiB; undefined elsewhere. */
export function procMemoryMiB(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (key: string): number => Number(/^(\w+):\s+(\d+) kB$/m.exec(status.split('\n').find((l) => l.startsWith(`${key}:`)) ?? '')?.[2])
    const rss = kib('VmRSS')
    const peak = kib('VmHWM')
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss: rss / 1024, peak: peak / 1024 } : undefined
  } catch {
    return undefined
  }
}

/** CPU time (user + system, seconds) a process has used, from /proc (Linux, 100 ticks/s). */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}
