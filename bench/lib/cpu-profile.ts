import type { Page } from 'playwright-core'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time of one function in a CPU profile. */
export interface ProfileEntry {
  name: string
  selfMs: number
  /** Share of the profiled wall time. */
  share: number
}

/**
 * Samples a page's main thread (Chrome DevTools protocol Profiler) while `during`
 * runs; returns self time per function, largest first. `(idle)` is time the
 * thread waited for work; `(program)` is the browser's own work between tasks.
 */
/** Names a minified function by where it starts in the source. */
export type Namer = (url: string, line: number, column: number) => string | undefined

/**
 * Reads the source maps of the scripts `page` loaded, from the server that served
 * them. Call it soon after the page loads: a rebuild of the client replaces them.
 */
export async function sourceMapsOf(page: Page): Promise<Namer> {
  const urls = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.endsWith('.js')))
  return sourceMapNamer(urls)
}

async function sourceMapNamer(urls: Iterable<string>): Promise<Namer> {
  // source-map-js comes with vite; without it, functions keep their minified names.
  const mod = (await import('source-map-js').catch(() => undefined)) as
    | { SourceMapConsumer: new (raw: string) => { originalPositionFor(p: { line: number; column: number }): { source: string | null; line: number | null } } }
    | undefined
  if (mod === undefined) return () => undefined
  const maps = new Map<string, InstanceType<typeof mod.SourceMapConsumer>>()
  for (const url of urls) {
    if (!url.startsWith('http')) continue
    const res = await fetch(`${url}.map`).catch(() => undefined)
    if (res?.ok === true) maps.set(url, new mod.SourceMapConsumer(await res.text()))
  }
  return (url, line, column) => {
    const pos = maps.get(url)?.originalPositionFor({ line: line + 1, column })
    if (pos?.source === null || pos?.source === undefined) return undefined
    return `${pos.source.replace(/^(\.\.\/)+/, '').replace(/^node_modules\//, '')}:${pos.line}`
  }
}

export async function profilePage(page: Page, during: () => Promise<void>, namer: Namer = () => undefined, top = 15): Promise<ProfileEntry[]> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
  await cdp.send('Profiler.start')
  await during()
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile }
  await cdp.detach()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<string, number>()
  let totalUs = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    totalUs += dt
    const f = byId.get(id)?.callFrame
    const where = f === undefined || f.url === '' ? undefined : (namer(f.url, f.lineNumber, f.columnNumber) ?? f.url.split('/').pop())
    const name = f === undefined ? '?' : `${f.functionName || '(anonymous)'}${where === undefined ? '' : ` ${where}`}`
    selfUs.set(name, (selfUs.get(name) ?? 0) + dt)
  })
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / Math.max(1, totalUs) }))
}
