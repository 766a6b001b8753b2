import { existsSync } from 'node:fs'
import { findChromium } from '../../bench/lib/chromium-path.js'
import { run } from './exec.js'

/** Whether the NAT lab can run here; `reason` says plainly what is missing. */
export type PreflightResult = { ok: true } | { ok: false; reason: string }

const APT_GET = '/usr/bin/apt-get'
const APT_TIMEOUT_MS = 300_000
/** Debian package of each tool the lab needs and may install. */
const PACKAGES: readonly { tool: string; pkg: string }[] = [
  { tool: 'iptables', pkg: 'iptables' },
  { tool: 'sysctl', pkg: 'procps' },
  { tool: 'turnserver', pkg: 'coturn' },
  // The lab's node serves TLS with a certificate made for 198.18.0.1 on the spot.
  { tool: 'openssl', pkg: 'openssl' },
  // docs/deploy.md checks the node's health with curl; the lab runs that command.
  { tool: 'curl', pkg: 'curl' },
  { tool: 'chromium', pkg: 'chromium' },
]

/**
 * Checks that this is Linux, we are root, `ip` exists and a network namespace
 * can be created; installs Debian's iptables, procps (sysctl) and coturn with
 * apt-get when they are missing and that is possible. Never throws: a caller prints `reason` and
 * skips.
 */
export async function preflight(): Promise<PreflightResult> {
  if (process.platform !== 'linux') return { ok: false, reason: `the NAT lab needs Linux network namespaces; this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the NAT lab needs root (network namespaces, veth, iptables); run as root' }
  if (findTool('ip') === undefined) return { ok: false, reason: 'the `ip` command (iproute2) is missing' }
  const missing = PACKAGES.filter((p) => findTool(p.tool) === undefined)
  if (missing.length > 0) {
    const installed = await aptInstall(missing.map((p) => p.pkg))
    const still = PACKAGES.filter((p) => findTool(p.tool) === undefined)
    if (still.length > 0) return { ok: false, reason: `missing ${still.map((p) => `${p.tool} (Debian package ${p.pkg})`).join(', ')}${installed === undefined ? '' : `; ${installed}`}` }
  }
  const probe = `p2pwpreflight${process.pid}`
  try {
    await run('ip', ['netns', 'add', probe])
  } catch (err) {
    return { ok: false, reason: `cannot create a network namespace (ip netns add): ${(err as Error).message}` }
  }
  await run('ip', ['netns', 'delete', probe]).catch(() => undefined)
  return { ok: true }
}

/** The tool's path in the usual system directories (PATH may lack sbin). */
function findTool(name: string): string | undefined {
  if (name === 'chromium') return findChromium()
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')].map((d) => `${d}/${name}`).find((p) => existsSync(p))
}

/** Installs `pkgs` with apt-get (updating the index only if the first try fails); returns why it failed, if it did. */
async function aptInstall(pkgs: readonly string[]): Promise<string | undefined> {
  if (!existsSync(APT_GET)) return 'apt-get is not available to install them'
  console.log(`nat-lab: installing ${pkgs.join(', ')} with apt-get`)
  const opts = { env: { DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: APT_TIMEOUT_MS }
  const install = (): Promise<unknown> => run(APT_GET, ['install', '-y', '-q', '--no-install-recommends', ...pkgs], opts)
  try {
    await install()
    return undefined
  } catch {
    try {
      await run(APT_GET, ['update', '-q'], opts)
      await install()
      return undefined
    } catch (err) {
      return `apt-get install failed: ${(err as Error).message.slice(-300)}`
    }
  }
}
