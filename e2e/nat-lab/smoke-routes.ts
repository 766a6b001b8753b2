import { runIn } from './exec.js'
import { labNamespaces, type Lab } from './netns.js'
import { inLabRange, type Check } from './smoke-check.js'

/** An address far outside the lab: where a leak would go. */
const OUTSIDE_IP = '1.1.1.1'

/**
 * Nothing in the lab routes out of 198.18.0.0/15: every IPv4 route of every
 * namespace is a lab subnet or a default via a lab gateway, there are no IPv6
 * routes but loopback, and the namespaces such defaults lead to (pub, routers)
 * have no route to an outside address at all.
 */
export async function routeChecks(lab: Lab): Promise<Check[]> {
  const gatewayNs = new Set([lab.pubNs, ...lab.hosts.flatMap((h) => (h.routerNs === undefined ? [] : [h.routerNs]))])
  return Promise.all(labNamespaces(lab).map(async (ns) => {
    const v4 = (await runIn(ns, 'ip', ['-4', 'route', 'show', 'table', 'all'])).stdout
    const v6 = (await runIn(ns, 'ip', ['-6', 'route', 'show', 'table', 'all'])).stdout
    const bad = [...lines(v4).filter((l) => !labRoute(l)), ...lines(v6).filter((l) => !/^(local )?::1 dev lo\b/.test(l) && !/^multicast ff00::\/8 dev lo\b/.test(l))]
    let outside = 'not checked'
    if (gatewayNs.has(ns)) {
      outside = await runIn(ns, 'ip', ['route', 'get', OUTSIDE_IP]).then((r) => `ROUTED: ${r.stdout.trim()}`, () => 'unreachable')
    }
    const defaults = lines(v4).filter((l) => l.startsWith('default')).join('; ') || 'no default'
    return {
      name: `routes of ${ns}`,
      ok: bad.length === 0 && !outside.startsWith('ROUTED'),
      detail: bad.length > 0 ? `outside the lab: ${bad.join('; ')}` : `${defaults}; ${OUTSIDE_IP}: ${outside}`,
    }
  }))
}

function lines(out: string): string[] {
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '')
}

/** A lab subnet, a local/broadcast entry of one, or a default via a lab gateway. */
function labRoute(line: string): boolean {
  const via = /^default via (\S+)/.exec(line)
  if (via !== null) return inLabRange(via[1]!)
  const dest = /^(?:local |broadcast )?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/.exec(line)
  if (dest === null) return false
  if (dest[1]!.startsWith('127.')) return / dev lo\b/.test(line)
  return inLabRange(dest[1]!) && Number(dest[2] ?? 32) >= 15
}
