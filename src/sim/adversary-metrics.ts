import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { VonMsg, decodeAccept, decodeNodes } from '../von/messages.js'
import type { Adversary } from './adversaries.js'
import type { MetricValue } from './scenario.js'
import type { VonRunInit } from './von-world.js'

/**
 * What the honest peers of one shard did against the adversaries, and what the
 * adversaries got: sums, so shards add up (see mergeVon).
 */
export interface AdversaryCounts {
  /** Links honest peers closed for a flood or a protocol violation, by the far end: hostile or honest (a false alarm). */
  readonly closedFloodHostile: number
  readonly closedViolationHostile: number
  readonly closedFloodHonest: number
  readonly closedViolationHonest: number
  /** The honest peers' link statistics, summed. */
  readonly linksClosedForFlood: number
  readonly linksClosedForViolation: number
  readonly framesOverBudget: number
  readonly badFrames: number
  readonly reportedBad: number
  readonly refusedIgnored: number
  /** (honest peer, hostile peer) pairs where the first ignores the second at the end; and honest pairs (false alarms). */
  readonly ignoringHostile: number
  readonly ignoringHonest: number
  /** Trackers of this shard, and the honest ids they were told of, summed. */
  readonly trackers: number
  readonly trackerLearned: number
  /** Of those, named by the answers to their forged queries. */
  readonly trackerLearnedByQuery: number
  /** Honest peers of this shard whose node lists are read as a tracker's are (the baseline: what walking the world tells), and the honest ids they were told of, summed. */
  readonly witnesses: number
  readonly witnessLearned: number
}

/** Counts the honest peers' link closures by reason and far end (a LinkProtocol that only listens). */
export class AdversaryTally {
  private readonly closed = { floodHostile: 0, violationHostile: 0, floodHonest: 0, violationHonest: 0 }
  private readonly witnessed: Set<PeerId>[] = []

  /**
   * `links` (an honest peer's, as its VonPeer gets them), with every id a node
   * list (NODES, ACCEPT) from an honest peer names noted: what honest peers tell
   * an honest peer as it walks, to hold a tracker's figures against.
   */
  witness(links: LinkManager, honest: (id: PeerId) => boolean): LinkManager {
    const learned = new Set<PeerId>()
    this.witnessed.push(learned)
    return observed(links, (proto, type, from, payload) => {
      if (proto === PROTOCOL.VON && honest(from)) for (const id of namedIn(type, payload)) learned.add(id)
    })
  }

  /** Listens to `links` (an honest peer's) closing links; `hostile` says who the far end is. */
  watch(links: LinkManager, hostile: (id: PeerId) => boolean): void {
    links.register({
      id: PROTOCOL.TEST,
      onLinkClosed: (peer, reason) => {
        const bad = hostile(peer)
        if (reason === 'flood') this.closed[bad ? 'floodHostile' : 'floodHonest']++
        else if (reason === 'protocol-violation') this.closed[bad ? 'violationHostile' : 'violationHonest']++
      },
    })
  }

  /** The counts at the end: `honest` are this shard's honest peers' links, `everyone` every peer of the run. */
  counts(honest: readonly LinkManager[], everyone: readonly { id: PeerId; hostile: boolean }[], adversaries: readonly Adversary[]): AdversaryCounts {
    const sum = (pick: (l: LinkManager) => number): number => honest.reduce((a, l) => a + pick(l), 0)
    const hostileIds = everyone.filter((e) => e.hostile).map((e) => e.id)
    const honestIds = new Set(everyone.filter((e) => !e.hostile).map((e) => e.id))
    let ignoringHostile = 0
    let ignoringHonest = 0
    if (hostileIds.length > 0) {
      for (const l of honest) {
        for (const id of hostileIds) if (l.isIgnored(id)) ignoringHostile++
        for (const id of honestIds) if (l.isIgnored(id)) ignoringHonest++
      }
    }
    const trackers = adversaries.filter((a) => a.tracks())
    return {
      closedFloodHostile: this.closed.floodHostile,
      closedViolationHostile: this.closed.violationHostile,
      closedFloodHonest: this.closed.floodHonest,
      closedViolationHonest: this.closed.violationHonest,
      linksClosedForFlood: sum((l) => l.stats.linksClosedForFlood),
      linksClosedForViolation: sum((l) => l.stats.linksClosedForViolation),
      framesOverBudget: sum((l) => l.stats.framesOverBudget),
      badFrames: sum((l) => l.stats.badFrames),
      reportedBad: sum((l) => l.stats.reportedBad),
      refusedIgnored: sum((l) => l.stats.refusedIgnored),
      ignoringHostile,
      ignoringHonest,
      trackers: trackers.length,
      trackerLearned: trackers.reduce((a, t) => a + [...t.learned].filter((id) => honestIds.has(id)).length, 0),
      trackerLearnedByQuery: trackers.reduce((a, t) => a + [...t.learnedByQuery].filter((id) => honestIds.has(id)).length, 0),
      witnesses: this.witnessed.length,
      witnessLearned: this.witnessed.reduce((a, w) => a + [...w].filter((id) => honestIds.has(id)).length, 0),
    }
  }
}

/** What the honest peers' link layers refused, with or without adversaries. */
export function defenceMetrics(parts: readonly AdversaryCounts[]): Record<string, MetricValue> {
  const sum = (pick: (c: AdversaryCounts) => number): number => parts.reduce((a, c) => a + pick(c), 0)
  return {
    linksClosedForFlood: sum((c) => c.linksClosedForFlood),
    linksClosedForViolation: sum((c) => c.linksClosedForViolation),
    framesOverBudget: sum((c) => c.framesOverBudget),
    badFramesReceived: sum((c) => c.badFrames),
    reportedBad: sum((c) => c.reportedBad),
    refusedIgnored: sum((c) => c.refusedIgnored),
  }
}

/** The adversary metrics of a run, from its shards' counts and the victims' sums over the measured samples. */
export function adversaryMetrics(
  init: VonRunInit,
  parts: readonly AdversaryCounts[],
  victim: { hits: number; shown: number; truth: number; minShare: number },
): Record<string, MetricValue> {
  const sum = (pick: (c: AdversaryCounts) => number): number => parts.reduce((a, c) => a + pick(c), 0)
  const a = init.adversaries!
  const hostile = Math.min(init.peers - 1, Math.round(a.fraction * init.peers))
  const trackers = sum((c) => c.trackers)
  return {
    attacks: a.attacks.join(','),
    hostilePeers: hostile,
    sybilsPerVictim: a.attacks.includes('sybil-eclipse') ? (a.sybils ?? 8) : null,
    victimAoiShare: victim.truth === 0 ? null : victim.hits / victim.truth,
    victimAoiShareShown: victim.truth === 0 ? null : victim.shown / victim.truth,
    victimAoiShareMin: victim.truth === 0 ? null : victim.minShare,
    closedFloodHostile: sum((c) => c.closedFloodHostile),
    closedViolationHostile: sum((c) => c.closedViolationHostile),
    closedFloodHonest: sum((c) => c.closedFloodHonest),
    closedViolationHonest: sum((c) => c.closedViolationHonest),
    ignoringHostilePairs: sum((c) => c.ignoringHostile),
    ignoringHonestPairs: sum((c) => c.ignoringHonest),
    trackerLearnedShare: trackers === 0 ? null : sum((c) => c.trackerLearned) / trackers / (init.peers - hostile),
    trackerQueryShare: trackers === 0 ? null : sum((c) => c.trackerLearnedByQuery) / trackers / (init.peers - hostile),
    honestLearnedShare: sum((c) => c.witnesses) === 0 ? null : sum((c) => c.witnessLearned) / sum((c) => c.witnesses) / (init.peers - hostile),
  }
}

/** The ids a VON node list names (NODES, ACCEPT); none for other messages. */
export function namedIn(type: number, payload: unknown): PeerId[] {
  if (type === VonMsg.NODES) return (decodeNodes(payload) ?? []).map((n) => n.id)
  if (type === VonMsg.ACCEPT) return (decodeAccept(payload)?.nodes ?? []).map((n) => n.id)
  return []
}

/** `links`, with `see` called on every message before the handler registered for it. */
export function observed(links: LinkManager, see: (proto: number, type: number, from: PeerId, payload: unknown) => void): LinkManager {
  const handle = (proto: number, type: number, handler: (from: PeerId, payload: unknown) => void): void =>
    links.handle(proto, type, (from, payload) => {
      see(proto, type, from, payload)
      handler(from, payload)
    })
  return new Proxy(links, {
    get(target, prop) {
      if (prop === 'handle') return handle
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}
