import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromiumPath } from '../../bench/lib/chromium-path.js'

/**
 * Writes an executable script into `dir` that runs Chromium inside network
 * namespace `ns` and returns its path, for playwright-core's
 * `chromium.launch({ executablePath })`. Playwright drives the browser over
 * inherited pipes (fds 3 and 4), which `ip netns exec` and `exec` keep, so the
 * control channel crosses the namespace boundary while every socket the
 * browser opens lives inside it.
 *
 * The binary is the one the browser tests use ($CHROMIUM, else the usual paths).
 */
export function chromiumWrapper(ns: string, dir: string): string {
  const binary = chromiumPath()
  const path = join(dir, `chromium-${ns}.sh`)
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${shellQuote(ns)} ${shellQuote(binary)} "$@"\n`, { mode: 0o755 })
  return path
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}
