import { existsSync } from 'node:fs'

/** Where Chromium is usually found on Linux, in the order tried after $CHROMIUM. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium']

/** $CHROMIUM when set, else the first usual path that exists; undefined when there is none. */
export function findChromium(): string | undefined {
  const set = process.env.CHROMIUM
  if (set !== undefined && set !== '') return existsSync(set) ? set : undefined
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p))
}

/** The browser to launch: {@link findChromium}, or Debian's path (where a missing browser is then reported). */
export function chromiumPath(): string {
  return findChromium() ?? process.env.CHROMIUM ?? CHROMIUM_CANDIDATES[0]!
}
