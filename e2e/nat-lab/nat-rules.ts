import type { NatKind } from './lab-plan.js'

/** Interface names inside a router namespace. */
export const WAN_IF = 'wan'
export const LAN_IF = 'lan'

/**
 * The `iptables-restore` input of a home router (its whole ruleset, replaced
 * atomically).
 *
 * Mapping: MASQUERADE keeps the LAN source port when it is free and reuses one
 * mapping for every destination (endpoint-independent, "cone");
 * `--random-fully` picks a fresh random port for every new conntrack entry,
 * i.e. per destination address and port ("symmetric").
 *
 * Filtering: conntrack lets in from the WAN only packets of a flow the LAN
 * opened (ESTABLISHED) or ICMP errors about one (RELATED). A flow is the full
 * 5-tuple, so a packet to a live mapping from any other address or port is
 * dropped: address-and-port-dependent filtering (RFC 4787). The cone router is
 * therefore a port-restricted cone: two of them punch through each other, a
 * cone and a symmetric one do not (ICE then needs TURN).
 *
 * Nothing here relies on default policies. Unsolicited packets to the router
 * itself are dropped in INPUT rather than answered: a port-unreachable reply
 * would confirm a conntrack entry for the sender's tuple, and MASQUERADE would
 * then move the LAN host's mapping to another port when it answers that same
 * sender, which breaks hole punching the way a real home router does not.
 */
export function routerRules(nat: Exclude<NatKind, 'public'>): string {
  const masquerade = `-A POSTROUTING -o ${WAN_IF} -j MASQUERADE${nat === 'symmetric' ? ' --random-fully' : ''}`
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    masquerade,
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    `-A INPUT -i ${WAN_IF} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    `-A INPUT -i ${WAN_IF} -j DROP`,
    `-A FORWARD -i ${LAN_IF} -o ${WAN_IF} -j ACCEPT`,
    `-A FORWARD -i ${WAN_IF} -o ${LAN_IF} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    `-A FORWARD -i ${WAN_IF} -o ${LAN_IF} -m conntrack --ctstate NEW -j DROP`,
    `-A FORWARD -i ${WAN_IF} -j DROP`,
    'COMMIT',
    '',
  ].join('\n')
}
