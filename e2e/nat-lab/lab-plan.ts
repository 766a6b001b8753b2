/**
 * Names and addresses of a lab, computed before anything is created.
 *
 * Every address comes from 198.18.0.0/15 (RFC 2544, benchmarking): the "public
 * internet" is 198.18.0.0/24 and home n's LAN is 198.19.n.0/24, so nothing in
 * the lab can be mistaken for, or routed to, a real network.
 */

/**
 * How a host reaches the lab's internet:
 * - `public`: its own address on the internet bridge, no NAT;
 * - `cone`: behind a Linux MASQUERADE router, endpoint-independent mapping (one
 *   public port for every destination) and address-and-port-dependent filtering
 *   (a "port-restricted cone" NAT);
 * - `symmetric`: the same with `--random-fully`, a new public port per destination.
 */
export type NatKind = 'public' | 'cone' | 'symmetric'

/** One host of the lab: a network namespace where peers, browsers and tools run. */
export interface LabHost {
  readonly name: string
  /** Its network namespace (`ip netns exec <ns> ...`). */
  readonly ns: string
  /** Its own address (198.19.n.2 behind a router, 198.18.0.x for a public host). */
  readonly ip: string
  readonly nat: NatKind
  /** WAN address of its router (its own ip for public hosts): what servers see. */
  readonly publicIp: string
  /** The namespace of its router; undefined for public hosts. */
  readonly routerNs: string | undefined
}

/** A host of the plan with what only the lab builder needs. */
export interface PlannedHost extends LabHost {
  /** Its veth port on the internet bridge (in the pub namespace). */
  readonly bridgePort: string
  /** Home subnet 198.19.`homeNet`.0/24; 0 for public hosts. */
  readonly homeNet: number
}

/** The whole lab range; no route in the lab leads anywhere else. */
export const LAB_CIDR = '198.18.0.0/15'
/** The "internet" bridge's address in the pub namespace, where the servers listen. */
export const SERVER_IP = '198.18.0.1'
/** Prefix length of the internet and of every home LAN. */
export const LAB_PREFIX_LENGTH = 24
/** @default 'p2pw' */
export const DEFAULT_LAB_PREFIX = 'p2pw'

const FIRST_HOST_OCTET = 10
const MAX_HOSTS = 200
const PREFIX_RE = /^[a-z][a-z0-9]{0,11}$/
const NAME_RE = /^[a-z][a-z0-9]{0,23}$/

/** Namespace of the lab's internet: the bridge and the servers. */
export function pubNamespace(prefix: string): string {
  return `${prefix}-pub`
}

/** Throws unless `prefix` is safe in namespace names and as a sweep pattern. */
export function checkPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) throw new Error(`lab prefix must match ${PREFIX_RE}: ${JSON.stringify(prefix)}`)
}

/** Assigns namespaces, interfaces and addresses to `hosts`, in order. */
export function planLab(prefix: string, hosts: readonly { name: string; nat: NatKind }[]): PlannedHost[] {
  checkPrefix(prefix)
  if (hosts.length > MAX_HOSTS) throw new Error(`a lab has at most ${MAX_HOSTS} hosts, not ${hosts.length}`)
  const seen = new Set<string>()
  return hosts.map(({ name, nat }, i) => {
    if (!NAME_RE.test(name) || name === 'pub') throw new Error(`host name must match ${NAME_RE} and not be "pub": ${JSON.stringify(name)}`)
    if (seen.has(name)) throw new Error(`duplicate host name ${name}`)
    seen.add(name)
    const wanIp = `198.18.0.${FIRST_HOST_OCTET + i}`
    const homeNet = nat === 'public' ? 0 : i + 1
    return {
      name,
      nat,
      ns: `${prefix}-${name}`,
      ip: nat === 'public' ? wanIp : `198.19.${homeNet}.2`,
      publicIp: wanIp,
      routerNs: nat === 'public' ? undefined : `${prefix}-${name}-router`,
      bridgePort: `p${i}`,
      homeNet,
    }
  })
}
