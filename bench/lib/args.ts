import { writeFileSync } from 'node:fs'

/** Reads `--name value` and `--flag` arguments. */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`)
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith('--')) {
      out.set(a.slice(2), next)
      i++
    } else {
      out.set(a.slice(2), 'true')
    }
  }
  return out
}

export function writeJson(file: string | undefined, value: unknown): void {
  if (file === undefined) return
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n')
  console.log(`wrote ${file}`)
}

/** A one-line description of the machine, for benchmark records. */
export async function machine(): Promise<string> {
  const os = await import('node:os')
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
  return `${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`
}
