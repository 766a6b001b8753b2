import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Files and directories the client bundle is built from (tests excluded). */
const SOURCES = ['index.html', 'vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'public', 'src']
/** A source tree larger than this is not walked: the build is simply redone. */
const MAX_FILES = 20_000

/**
 * Builds the browser client into `<root>/dist` with Vite when dist/ is missing
 * or older than any source. Returns whether it built.
 */
export async function ensureClientBuilt(root: string, opts: { force?: boolean; log?: (line: string) => void } = {}): Promise<boolean> {
  const built = await mtimeMs(join(root, 'dist', 'index.html'))
  if (opts.force !== true && built !== undefined) {
    const newest = await newestSource(root)
    if (newest !== undefined && newest <= built) return false
  }
  opts.log?.(built === undefined ? 'building the client (dist/ is missing)…' : 'building the client (sources changed)…')
  const { build } = await import('vite')
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' })
  return true
}

async function mtimeMs(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs
  } catch {
    return undefined
  }
}

/** Newest modification time among the sources; undefined when there are too many to walk. */
async function newestSource(root: string): Promise<number | undefined> {
  let newest = 0
  let files = 0
  const walk = async (path: string): Promise<boolean> => {
    let entries
    try {
      entries = await readdir(path, { withFileTypes: true })
    } catch {
      const t = await mtimeMs(path) // a file (or missing)
      if (t !== undefined) newest = Math.max(newest, t)
      return ++files <= MAX_FILES
    }
    for (const e of entries) {
      const child = join(path, e.name)
      if (e.isDirectory()) {
        if (!(await walk(child))) return false
      } else if (!e.name.includes('.test.')) {
        newest = Math.max(newest, (await mtimeMs(child)) ?? 0)
        if (++files > MAX_FILES) return false
      }
    }
    return true
  }
  for (const s of SOURCES) if (!(await walk(join(root, s)))) return undefined
  return newest
}
