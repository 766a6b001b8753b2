import { ensureClientBuilt } from '../signaling/client-build.js'
import { ROOT } from './lib/server-process.js'

/** Builds the client once, before any test starts a server (each server would otherwise check). */
export default async function globalSetup(): Promise<void> {
  await ensureClientBuilt(ROOT, { log: (line) => process.stdout.write(`${line}\n`) })
}
