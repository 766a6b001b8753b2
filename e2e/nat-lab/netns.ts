import { execFileSync } from 'node:child_process'
import { cleanupOnExit } from './cleanup-on-exit.js'
import { run, runIn } from './exec.js'
import { checkPrefix, DEFAULT_LAB_PREFIX, LAB_PREFIX_LENGTH, planLab, pubNamespace, SERVER_IP, type LabHost, type NatKind, type PlannedHost } from './lab-plan.js'
import { LAN_IF, routerRules, WAN_IF } from './nat-rules.js'

export type { LabHost, NatKind } from './lab-plan.js'

/** A running lab: namespaces wired as one internet bridge, public hosts and NATed homes. */
export interface Lab {
  readonly prefix: string
  /** The internet's namespace: the bridge, and the servers at {@link Lab.serverIp}. */
  readonly pubNs: string
  /** 198.18.0.1, the bridge's own address: servers started in pubNs listen here. */
  readonly serverIp: string
  readonly hosts: readonly LabHost[]
  /** The host named `name`; throws if there is none. */
  host(name: string): LabHost
  /** Kills every process left in the lab's namespaces and deletes them. Idempotent. */
  destroy(): Promise<void>
}

/** What {@link createLab} builds. */
export interface LabInit {
  /** Every namespace is named `<prefix>-...`, which {@link sweepLab} relies on. @default 'p2pw' */
  prefix?: string
  hosts: readonly { name: string; nat: NatKind }[]
}

const HOST_IF = 'eth0'
const BRIDGE_IF = 'br0'
/**
 * The homes' LAN range: private addresses, which the internet does not route.
 * In pub it leads into {@link VOID_IF}, one end of a veth pair whose other end
 * stays down in pub (the kernel here has no `dummy` module): what is sent there
 * is dropped and sendto(2) succeeds, as a real internet drops a datagram to a
 * private address somewhere upstream. Without this route a server in pub gets
 * ENETUNREACH from sendto(2), which no server on the internet sees, and coturn
 * 4.6.1 answers a failed send on a relay socket by closing the whole allocation
 * (ns_ioalib_engine_impl.c sets `tobeclosed`): an ICE check a peer sends through
 * TURN to the other peer's host candidate (198.19.n.2) kills the relay that the
 * selected pair is using, and the link goes silent after a message or two.
 */
const HOMES_CIDR = '198.19.0.0/16'
const VOID_IF = 'void0'
const CIDR_SUFFIX = `/${LAB_PREFIX_LENGTH}`

/**
 * Builds the lab. Links are created inside the lab's namespaces only (never in
 * the root namespace), and no namespace has a route that leaves the lab: home
 * routers and the pub namespace know only their connected subnets (and pub the
 * homes' range, into a link that drops it: see {@link HOMES_CIDR}), and hosts' default
 * routes (Chromium needs one to choose its local address) lead to them.
 * Fails if a namespace of the same name exists; run {@link sweepLab} first.
 * Destroys what it built when it fails, and registers the lab's destroy for
 * process exit and SIGINT/SIGTERM.
 */
export async function createLab(init: LabInit): Promise<Lab> {
  const prefix = init.prefix ?? DEFAULT_LAB_PREFIX
  const hosts = planLab(prefix, init.hosts)
  const pubNs = pubNamespace(prefix)
  const namespaces = [pubNs, ...hosts.flatMap(hostNamespaces)]
  const created: string[] = []
  let destroying: Promise<void> | undefined
  const destroySync = (): void => {
    for (const ns of created) killNamespaceSync(ns)
    created.length = 0
  }
  const unregister = cleanupOnExit(() => lab.destroy(), destroySync)
  const lab: Lab = {
    prefix,
    pubNs,
    serverIp: SERVER_IP,
    hosts,
    host(name) {
      const h = hosts.find((x) => x.name === name)
      if (h === undefined) throw new Error(`no lab host named ${name}`)
      return h
    },
    destroy() {
      // A namespace leaves `created` only once deleted: an exit halfway through still finds the rest.
      destroying ??= Promise.all([...created].map(async (ns) => {
        await killNamespace(ns)
        created.splice(created.indexOf(ns), 1)
      })).then(() => unregister())
      return destroying
    },
  }
  try {
    // The first `ip netns add` sets up /run/netns as a shared mount; concurrent first calls race on that.
    await addNamespace(pubNs, created)
    await Promise.all(namespaces.slice(1).map((ns) => addNamespace(ns, created)))
    await Promise.all(namespaces.map((ns) => runIn(ns, 'sysctl', ['-q', '-w', ...sysctls(ns, hosts)])))
    await Promise.all([batch(pubNs, bridgeCommands(hosts)), ...hosts.filter(isHome).map((h) => batch(h.routerNs, [`link add ${LAN_IF} type veth peer name ${HOST_IF} netns ${h.ns}`]))])
    await Promise.all(hosts.flatMap((h) => configureHost(h)))
    return lab
  } catch (err) {
    await lab.destroy()
    throw err
  }
}

/**
 * Kills the processes in, and deletes, every namespace named `<prefix>-...`:
 * the leftovers of a run that could not clean up. Returns how many it deleted.
 */
export async function sweepLab(prefix = DEFAULT_LAB_PREFIX): Promise<number> {
  checkPrefix(prefix)
  const { stdout } = await run('ip', ['netns', 'list'])
  const names = stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${prefix}-`))
  await Promise.all(names.map(killNamespace))
  return names.length
}

/** Every namespace of `lab`: pub first, then each host's router (if any) and the host. */
export function labNamespaces(lab: Pick<Lab, 'pubNs' | 'hosts'>): string[] {
  return [lab.pubNs, ...lab.hosts.flatMap(hostNamespaces)]
}

function hostNamespaces(h: LabHost): string[] {
  return h.routerNs === undefined ? [h.ns] : [h.routerNs, h.ns]
}

type HomeHost = PlannedHost & { routerNs: string }

function isHome(h: PlannedHost): h is HomeHost {
  return h.routerNs !== undefined
}

async function addNamespace(ns: string, created: string[]): Promise<void> {
  // Listed before it exists, so that an exit while `ip netns add` runs still deletes it,
  // and unlisted if the add fails: it may be another lab's, which is not ours to delete.
  created.push(ns)
  try {
    await run('ip', ['netns', 'add', ns])
  } catch (err) {
    created.splice(created.indexOf(ns), 1)
    if (!/File exists/.test((err as Error).message)) throw err
    throw new Error(`namespace ${ns} exists: a lab with this prefix is running or was left behind (sweepLab removes leftovers)`)
  }
}

function sysctls(ns: string, hosts: readonly PlannedHost[]): string[] {
  // IPv4 only: lab links get no IPv6 (not even link-local), so candidates and
  // routes are exactly the 198.18/15 ones; lo keeps ::1 for servers binding ::.
  const all = ['net.ipv6.conf.default.disable_ipv6=1']
  return hosts.some((h) => h.routerNs === ns) ? [...all, 'net.ipv4.ip_forward=1'] : all
}

function bridgeCommands(hosts: readonly PlannedHost[]): string[] {
  return [
    `link add ${BRIDGE_IF} type bridge`,
    `addr add ${SERVER_IP}${CIDR_SUFFIX} dev ${BRIDGE_IF}`,
    `link set ${BRIDGE_IF} up`,
    'link set lo up',
    `link add ${VOID_IF} type veth peer name ${VOID_IF}peer`,
    `link set ${VOID_IF} arp off up`,
    `route add ${HOMES_CIDR} dev ${VOID_IF}`,
    ...hosts.flatMap((h) => [
      `link add ${h.bridgePort} type veth peer name ${isHome(h) ? WAN_IF : HOST_IF} netns ${h.routerNs ?? h.ns}`,
      `link set ${h.bridgePort} master ${BRIDGE_IF} up`,
    ]),
  ]
}

function configureHost(h: PlannedHost): Promise<unknown>[] {
  if (!isHome(h)) {
    // The pub namespace does not forward, so this default route ends there.
    return [batch(h.ns, ['link set lo up', `addr add ${h.ip}${CIDR_SUFFIX} dev ${HOST_IF}`, `link set ${HOST_IF} up`, `route add default via ${SERVER_IP}`])]
  }
  const routerLanIp = `198.19.${h.homeNet}.1`
  return [
    batch(h.routerNs, [
      'link set lo up',
      `addr add ${h.publicIp}${CIDR_SUFFIX} dev ${WAN_IF}`,
      `link set ${WAN_IF} up`,
      `addr add ${routerLanIp}${CIDR_SUFFIX} dev ${LAN_IF}`,
      `link set ${LAN_IF} up`,
    ]).then(() => runIn(h.routerNs, 'iptables-restore', [], { input: routerRules(h.nat === 'symmetric' ? 'symmetric' : 'cone') })),
    batch(h.ns, ['link set lo up', `addr add ${h.ip}${CIDR_SUFFIX} dev ${HOST_IF}`, `link set ${HOST_IF} up`, `route add default via ${routerLanIp}`]),
  ]
}

/** Runs `ip` commands in `ns` from one process (`ip -n ns -batch -`). */
function batch(ns: string, commands: readonly string[]): Promise<unknown> {
  return run('ip', ['-n', ns, '-batch', '-'], { input: `${commands.join('\n')}\n` })
}

async function killNamespace(ns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', ns]).then((r) => parsePids(r.stdout), () => [])
  for (const pid of pids) killQuietly(pid)
  // A namespace outlives its name while a process is inside; the kill above makes the delete final.
  await run('ip', ['netns', 'delete', ns]).catch(() => undefined)
}

function killNamespaceSync(ns: string): void {
  try {
    for (const pid of parsePids(execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5_000 }))) killQuietly(pid)
    execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore', timeout: 5_000 })
  } catch {
    // Already gone, or the sweep of the next run deletes it.
  }
}

function parsePids(out: string): number[] {
  return out.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number)
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Exited meanwhile.
  }
}
