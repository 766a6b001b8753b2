import { ensureChromium } from '../bench/lib/ensure-chromium.js'
import { ensureClientBuilt } from '../signaling/client-build.js'
import { ROOT } from './lib/server-process.js'

/**
 * Before any test: a Chromium to drive (installed from Debian's packages when
 * missing and we may; otherwise one line saying what to run), and the client
 * built once (each server would otherwise check).
 */
export default async function globalSetup(): Promise<void> {
  try {
    await ensureChromium((line) => process.stdout.write(`${line}\n`))
  } catch (err) {
    process.stderr.write(`npm test: ${(err as Error).message}\n`)
    process.exit(1)
  }
  await ensureClientBuilt(ROOT, { log: (line) => process.stdout.write(`${line}\n`) })
}
