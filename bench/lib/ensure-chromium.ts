import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { CHROMIUM_CANDIDATES, findChromium } from './chromium-path.js'

const run = promisify(execFile)
const APT_GET = '/usr/bin/apt-get'
const APT_TIMEOUT_MS = 600_000
const PACKAGES = ['chromium', 'fonts-dejavu-core']
const COMMAND = `sudo apt-get install -y ${PACKAGES.join(' ')}`

/**
 * The Chromium the browser tests drive: found ($CHROMIUM, then the usual
 * paths), or installed from Debian's packages when this runs as root with
 * apt-get (saying so on one line). Otherwise throws an Error whose message is
 * one line naming the command to run.
 */
export async function ensureChromium(say: (line: string) => void): Promise<string> {
  const found = findChromium()
  if (found !== undefined) return found
  if (process.env.CHROMIUM !== undefined && process.env.CHROMIUM !== '') throw new Error(`CHROMIUM=${process.env.CHROMIUM} does not exist: point it at a Chromium or Chrome binary, or unset it`)
  if (process.getuid?.() !== 0 || !existsSync(APT_GET)) {
    throw new Error(`the browser tests need Chromium and none was found (${CHROMIUM_CANDIDATES[0]} and the usual paths): run \`${COMMAND}\`, or set CHROMIUM=/path/to/chrome`)
  }
  say(`no Chromium found: installing Debian's ${PACKAGES.join(' ')} with apt-get`)
  const opts = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: APT_TIMEOUT_MS }
  const install = (): Promise<unknown> => run(APT_GET, ['install', '-y', '-q', '--no-install-recommends', ...PACKAGES], opts)
  try {
    await install()
  } catch {
    await run(APT_GET, ['update', '-q'], opts)
    await install()
  }
  const installed = findChromium()
  if (installed === undefined) throw new Error(`apt-get installed ${PACKAGES.join(' ')} but no Chromium is at the usual paths; set CHROMIUM=/path/to/chrome`)
  return installed
}
