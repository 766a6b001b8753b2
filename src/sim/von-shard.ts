import type { PeerId } from '../core/id.js'
import { VonPeer } from '../von/von-peer.js'
import { TicketChecker, TicketIssuer, type JoinTickets } from '../von/join-tickets.js'
import { NeighbourTable } from '../von/neighbour-table.js'
import { massFailure } from './churn.js'
import { EventCosts, type EventCostRow } from './event-costs.js'
import { FlashCrowd, Hotspots, KeyboardMobility, RandomWaypoint, type Mobility, type Point } from './mobility.js'
import { enterMs, leaveMs, ReplayMobility, TrackRecorder } from './replay.js'
import { readRecords, RecordKind, ShardOutbox } from './shard-bus.js'
import { sampleConsistency, type Observed } from './von-metrics.js'
import type { VonRunInit } from './von-world.js'
import { SimWorld, type SimLinkPeer } from './world.js'
import { drawNatClass } from './nat-model.js'
import { LatencyHistogram, PositionHistory, RelayLoadMeter, SimRelayDirectory, type RelayLoad } from './relay-metrics.js'
import type { SimNodeSpec } from './network.js'
import { addTraffic, TrafficCounter, type TrafficTotals } from './traffic.js'
import { Adversary, castAdversaries, ringPosition, TRACKER_AOI, type Cast, type HostileRole, type Ring } from './adversaries.js'
import { AdversaryTally, type AdversaryCounts } from './adversary-metrics.js'

/** A peer of this shard: its link-level peer and VON. */
interface Local {
  readonly peer: SimLinkPeer
  readonly von: VonPeer
}

interface Member {
  readonly index: number
  readonly id: PeerId
  /** Set when this shard runs the peer. */
  readonly local: Local | undefined
  readonly pos: Point
  joinAt: number
  joinedAt: number
  /** Position last reported to the bootstrap node's host cache. */
  reported: Point
  completeAt: number
  alive: boolean
  /** Since when it has had neither a neighbour nor a link (-1: it has some). */
  aloneSince: number
  /** Where it stood at each recent step (move latency). */
  readonly hist: PositionHistory
  readonly nat: SimNodeSpec['nat']
  /** Set for a hostile peer (adversaries.ts); the metrics that count are its honest peers'. */
  readonly role: HostileRole | undefined
  /** A sybil's place on the ring around its victim. */
  readonly ring: Ring | undefined
  /** Where its mobility walks it: `pos`, but for a sybil, whose `pos` follows its victim. */
  readonly walk: Point
  /** This shard runs a hostile peer: its misbehaviour. */
  readonly adversary: Adversary | undefined
}

/** One sample of this shard's peers (sums, so shards add up). */
export interface SampleRow {
  readonly t: number
  readonly hits: number
  readonly truth: number
  readonly driftSum: number
  readonly driftMax: number
  readonly links: number
  readonly linkMax: number
  /** Joined live peers of this shard (the observers). */
  readonly present: number
  /** Bytes sent so far by every peer of this shard. */
  readonly bytesSent: number
  /** Hits the game is shown (a hint is not). */
  readonly shownHits: number
  /** The sybils' victims of this shard: their hits, shown hits and truth. */
  readonly victimHits: number
  readonly victimShown: number
  readonly victimTruth: number
}

/** What a shard hands back at the end of a run (see `mergeVon`). */
export interface VonShardResult {
  readonly rows: SampleRow[]
  /** Bytes/s sent and received in the measured window, per peer joined by its start. */
  readonly sent: number[]
  /** Datagrams/s and wire bytes/s (packet headers included) sent, per peer as `sent`. */
  readonly datagrams: number[]
  readonly wire: number[]
  /** What those peers sent in the window by message type (summed). */
  readonly traffic: TrafficTotals
  readonly received: number[]
  readonly joinLatencies: number[]
  /** Joined live peers at the end, with their live neighbours by index. */
  readonly alive: { index: number; x: number; y: number; aoi: number; tableSize: number; neighbours: number[] }[]
  readonly peers: number
  readonly joinedPeers: number
  readonly shrunk: number
  readonly notifications: number
  readonly dropped: number
  readonly badMessages: number
  /** States and named nodes that broke the world's rules (clamped or dropped). */
  readonly unlawful: number
  readonly joinLoops: number
  /** Join queries refused as not for their joiner's own place (see Joining.onQuery). */
  readonly refusedQueries: number
  /** Join queries an acceptor did not answer without a ticket reaching their place (see join-tickets.ts). */
  readonly unticketed: number
  /** Tickets the node issued, and refused as too far from the id's last. */
  readonly ticketsIssued: number
  readonly ticketsTooFar: number
  readonly introduced: number
  readonly dialled: number
  readonly rejoins: number
  readonly failed: number[]
  readonly eventsRun: number
  readonly traceHash: string
  /** With VonRunInit.eventClock: wall time by kind of event in the measured window. */
  readonly eventCosts?: EventCostRow[]
  /** Move latency in the measured window (send to delivery), over direct links and over circuits, and the detour of each relayed move (through the relay less direct). */
  readonly latencyDirect: LatencyHistogram
  readonly latencyRelayed: LatencyHistogram
  readonly relayHop: LatencyHistogram
  /** One-way base latency of each hop of a relayed move (sender to relay, relay to receiver). */
  readonly relayLeg: LatencyHistogram
  /** Relay peers of this shard and their load. */
  readonly relayLoads: RelayLoad[]
  /** Open links at the end by path kind (this shard's peers' ends). */
  readonly pathsAtEnd: Record<string, number>
  /** This shard's peers by NAT class. */
  readonly natCounts: Record<string, number>
  /** Frames that failed end-to-end authentication, and circuits refused by relays (caps, reservations). */
  readonly tampered: number
  readonly circuitsRefused: number
  /** Relayed links whose relay went: moved (time summed, longest) or closed. */
  readonly reroute: { moved: number; msSum: number; msMax: number; lost: number }
  /** What the honest peers' defences did, and what the adversaries got (adversary-metrics.ts). */
  readonly adversaries: AdversaryCounts
}

/** A world's records of its own: a peer of the sending shard joined (a = index). */
const JOINED = 17

/** When a run's phases start and how it samples, from its init (shards and the merge agree). */
export function vonSchedule(init: VonRunInit) {
  const joinMs = init.joinSeconds * 1000
  const measureStart = joinMs + init.settleSeconds * 1000
  return {
    stepMs: 1000 / init.stepsPerSec,
    sampleMs: init.sampleMs ?? 200,
    /** VAST's rule: speed x 3 hops x 2, at least 10. */
    buffer: init.buffer ?? Math.max(10, init.speed * 3 * 2),
    joinMs,
    measureStart,
    endMs: measureStart + init.seconds * 1000,
    failAt: (init.failure ?? init.relayFailure) === undefined ? undefined : measureStart + (init.failure ?? init.relayFailure)!.atSeconds * 1000,
  }
}

const REPORT_PERIOD_MS = 10_000
/** A replayed peer whose track ended said goodbye (BYE) this long before it closes its links and its process ends (a closed tab). */
const LEAVE_CLOSE_MS = 100
/** A peer alone this long rejoins (the real Peer waits 2-6 s: aloneGraceMs). */
const ALONE_GRACE_MS = 2000

/**
 * The VON world of one shard: every shard knows every peer's identity, latency
 * and movement (mobility is drawn for all, so positions agree everywhere), and
 * runs the protocol for its own peers (index mod shards). Unsplit, one shard
 * runs them all and nothing crosses.
 */
export class VonShard {
  readonly world: SimWorld
  readonly outbox: ShardOutbox | undefined
  readonly endMs: number
  readonly measureStart: number
  private readonly members: Member[] = []
  private readonly byId = new Map<PeerId, number>()
  private readonly joined: Member[] = []
  private readonly rows: SampleRow[] = []
  private readonly snapshotStart = new Map<number, { sent: number; received: number; datagrams: number; wire: number }>()
  private failed: number[] = []
  private rejoins = 0
  private readonly latencyDirect = new LatencyHistogram()
  private readonly latencyRelayed = new LatencyHistogram()
  private readonly relayHop = new LatencyHistogram()
  private readonly relayLeg = new LatencyHistogram()
  private readonly relayMeter = new RelayLoadMeter()
  private readonly recorder: TrackRecorder | undefined
  private readonly cast: Cast | undefined
  private readonly tally = new AdversaryTally()

  constructor(
    private readonly init: VonRunInit,
    readonly shard = 0,
    readonly shards = 1,
  ) {
    const { stepMs, sampleMs, buffer, joinMs, measureStart, endMs, failAt } = vonSchedule(init)
    if (init.relayFailure !== undefined && shards > 1) throw new Error('a relay failure needs an unsplit run (leave out --workers): each shard sees only its own relays')
    if (init.onTracks !== undefined && shards > 1) throw new Error('--write-tracks needs an unsplit run (leave out --workers)')
    this.measureStart = measureStart
    this.endMs = endMs
    // Relaying off: no peer volunteers or keeps a home relay, so no circuit ever opens.
    const link = init.relaying === false ? { ...init.link, relay: { ...init.link?.relay, volunteer: false, homeRelays: 0 } } : init.link
    const world = (this.world = new SimWorld({ seed: init.seed, link, ...(init.nat === undefined ? {} : { network: { ice: init.nat.ice } }) }))
    const directory = new SimRelayDirectory(world.sim, world.net, (id) => this.members[this.byId.get(id) ?? -1]?.alive === true)
    world.relayDirectory = (id) => directory.for(id)
    if (shards > 1) {
      this.outbox = new ShardOutbox(shard, shards)
      world.net.port = this.outbox
    }
    const sim = world.sim
    if (init.eventClock !== undefined) sim.costs = new EventCosts(init.eventClock, measureStart)
    const rng = sim.rng('von-world')
    // The world's rules every receiver enforces (replayed tracks may move at any speed).
    const speedMax = typeof init.mobility === 'object' ? Infinity : init.speed * init.stepsPerSec
    const tickets = init.tickets === false ? undefined : this.ticketsOf(world, speedMax)
    const replay = typeof init.mobility === 'object' ? init.mobility.replay : undefined
    if (replay !== undefined && replay.tracks.length !== init.peers) throw new Error(`invariant: ${init.peers} peers but ${replay.tracks.length} tracks`)
    let mobility = makeMobility(init, { width: init.width, height: init.height }, sim.rng('mobility'), () => sim.now)
    if (init.onTracks !== undefined) mobility = this.recorder = new TrackRecorder(mobility)
    const plane = init.latencyPlaneMs ?? 60
    // Its own stream: the honest peers draw what they draw without adversaries.
    const cast = (this.cast = init.adversaries === undefined ? undefined : castAdversaries(init.peers, init.adversaries, sim.rng('adversaries')))
    const view = {
      peers: init.peers,
      aoi: init.aoi,
      width: init.width,
      height: init.height,
      id: (i: number) => this.members[i]!.id,
      pos: (i: number) => this.members[i]!.pos,
      honest: (i: number) => this.members[i]!.role === undefined,
      honestId: (id: PeerId) => this.members[this.byId.get(id) ?? -1]?.role === undefined,
    }
    // Its own stream: runs without NAT classes draw exactly what they drew before.
    const natRng = init.nat === undefined ? undefined : sim.rng('nat')
    for (let i = 0; i < init.peers; i++) {
      const spec: SimNodeSpec = { x: rng.next() * plane, y: rng.next() * plane, accessMs: 5 + rng.next() * 10, upBytesPerSec: init.upBytesPerSec ?? 250_000 }
      if (natRng !== undefined) spec.nat = drawNatClass(natRng, init.nat!.shares)
      let local: Local | undefined
      let id: PeerId
      const role = cast?.roles[i]
      const ring = cast?.rings.get(i)
      let adversary: Adversary | undefined
      if (i % shards === shard) {
        const peer = world.addPeer(spec)
        const listener = { onMove: (from: PeerId, x: number, y: number) => this.moved(i, from, x, y) }
        // The world's rules every receiver enforces (replayed tracks may move at any speed).
        const rules = { width: init.width, height: init.height, speedMax }
        if (role !== undefined) adversary = new Adversary(role, i, peer.links, view, sim.rng(`adversary:${i}`), peer.env.timers, () => sim.now, ring)
        else if (cast !== undefined) this.tally.watch(peer.links, (id) => this.members[this.byId.get(id) ?? -1]?.role !== undefined)
        // Every WITNESS_EVERY-th honest peer's node lists are read: what an honest walker is told, beside what trackers are.
        const read = role === undefined && cast !== undefined && i % WITNESS_EVERY === 0 ? this.tally.witness(peer.links, view.honestId) : undefined
        const aoiRadius = role === 'track' ? TRACKER_AOI : init.aoi
        const ticketing = tickets?.(peer.id)
        const von = new VonPeer({ env: peer.env, links: adversary?.gate() ?? read ?? peer.links, localId: peer.id, listener, tickets: ticketing }, { buffer, ...rules, ...init.von, aoiRadius })
        adversary?.attach(von, ticketing)
        local = { peer, von }
        id = peer.id
      } else {
        id = world.addRemotePeer(spec, i % shards)
      }
      this.byId.set(id, i)
      const walk = mobility.place(i)
      const pos = ring === undefined ? walk : { ...walk }
      this.members.push({ index: i, id, local, pos, joinAt: -1, joinedAt: -1, completeAt: -1, alive: true, aloneSince: -1, reported: { ...pos }, hist: new PositionHistory(), nat: spec.nat, role, ring, walk, adversary })
    }
    // Sybils stand around their victims from the start.
    for (const m of this.members) if (m.ring !== undefined) ringPosition(m.ring, this.members[m.ring.victim]!.pos, init.aoi, init.width, init.height, m.pos)

    const hostCacheFor = (m: Member, exclude: boolean) => (): PeerId[] =>
      hostCache(this.joined.filter((j) => j.alive && (!exclude || j !== m)), m.pos, init.hostCache ?? 'nearest', rng)
    for (const m of this.members) {
      // A world grows: joins start slowly and speed up (peer i at joinMs * sqrt(i / n)); replayed peers enter when their track starts.
      const track = replay?.tracks[m.index]
      const at = track !== undefined ? enterMs(track, stepMs) : init.peers <= 1 ? 0 : Math.round(Math.sqrt(m.index / init.peers) * joinMs)
      if (at > endMs) continue
      sim.at(at, () => {
        m.joinAt = sim.now
        if (m.local === undefined) return
        const first = this.joined.length === 0 && m.index === 0
        m.local.von.join(m.pos.x, m.pos.y, hostCacheFor(m, false))
        m.adversary?.start()
        // The first peer starts the world; later ones enter the host cache once joined. A replayed
        // peer may enter first at any time: one that found nobody started a world, and the next must find it.
        if (replay !== undefined ? m.local.von.joined : first) this.markJoined(m)
      })
      const leaveAt = track === undefined ? Infinity : leaveMs(track, stepMs)
      if (leaveAt <= endMs) sim.at(leaveAt, () => this.leave(m))
    }

    let step = 0
    const reportEvery = Math.max(1, Math.round(REPORT_PERIOD_MS / stepMs))
    const stepAll = (): void => {
      step++
      for (const m of this.members) {
        if (!m.alive || m.joinAt < 0) continue
        mobility.step(m.index, m.walk)
        if (m.ring !== undefined) ringPosition(m.ring, this.members[m.ring.victim]!.pos, init.aoi, init.width, init.height, m.pos)
        m.hist.push(sim.now, m.pos.x, m.pos.y)
        if ((step + m.index) % reportEvery === 0) m.reported = { ...m.pos }
        const local = m.local
        if (local === undefined) continue
        const said = m.adversary === undefined ? m.pos : m.adversary.position(m.pos)
        local.von.move(said.x, said.y)
        if (m.joinedAt < 0 && local.von.joined) this.markJoined(m)
        // Every neighbour it had failed: like a real Peer, it rejoins through the bootstrap node.
        if (m.joinedAt >= 0 && local.von.joined && local.von.table.size === 0 && local.peer.links.linkCount === 0 && this.joined.length > 1) {
          if (m.aloneSince < 0) m.aloneSince = sim.now
          else if (sim.now - m.aloneSince >= ALONE_GRACE_MS) {
            m.aloneSince = -1
            this.rejoins++
            local.von.rejoin(hostCacheFor(m, true))
          }
        } else m.aloneSince = -1
      }
      if (shard === 0) init.progress?.(sim.now / this.endMs)
      if (sim.now + stepMs <= this.endMs) sim.after(stepMs, stepAll)
    }
    sim.after(stepMs, stepAll)

    if (failAt !== undefined && init.relayFailure !== undefined) {
      sim.at(failAt, () => {
        // The peers relaying a circuit or holding a reservation now: a fraction of them fails at once.
        const relays = this.members.filter((m) => m.alive && m.local !== undefined && relayBusy(m.local.peer))
        const pick = massFailure(sim.rng('failure'), relays.length, init.relayFailure!.fraction)
        this.failed = pick.map((k) => relays[k]!.index)
        for (const i of this.failed) {
          const m = this.members[i]!
          m.alive = false
          world.crash(m.local!.peer)
        }
      })
    } else if (failAt !== undefined) {
      sim.at(failAt, () => {
        this.failed = massFailure(sim.rng('failure'), init.peers, init.failure!.fraction)
        for (const i of this.failed) {
          const m = this.members[i]!
          m.alive = false
          if (m.local !== undefined) world.crash(m.local.peer)
          else world.net.crash(m.id)
        }
      })
    }

    // A sample compares beliefs with the truth after the step of its instant (queued before it): a
    // neighbour's prediction for time t is to be measured against where the mover is at t.
    const sample = (): void => {
      sim.after(0, () => this.sample())
      if (sim.now + sampleMs <= this.endMs) sim.after(sampleMs, sample)
    }
    sim.at(sampleMs, sample)
    sim.at(this.measureStart, () => {
      this.relayMeter.start(this.localPeers())
      for (const m of this.members) {
        if (m.local === undefined) continue
        const node = world.net.node(m.id)!
        this.snapshotStart.set(m.index, { sent: node.bytesSent, received: node.bytesReceived, datagrams: node.messagesSent, wire: node.wireBytesSent })
        node.traffic = new TrafficCounter()
      }
    })
  }

  /**
   * The bootstrap node signs join tickets with one key in every shard (drawn
   * from the seed); each peer asks it for its own and checks others' with it.
   */
  private ticketsOf(world: SimWorld, speedMax: number): (id: PeerId) => JoinTickets {
    const sim = world.sim
    const clock = { now: () => sim.now }
    const issuer = new TicketIssuer(world.crypto.keyPairFromSeed(sim.rng('node-key').bytes(32)), clock, { speedMax })
    world.signaling.tickets = issuer
    const checker = new TicketChecker(world.crypto, issuer.publicKey, clock)
    return (id) => world.signaling.joinTickets(id, checker)
  }

  private localPeers(): SimLinkPeer[] {
    return this.members.filter((m) => m.local !== undefined && m.alive).map((m) => m.local!.peer)
  }

  /** A neighbour's move reached peer `at`: its latency from the step that made it, by the path of the link. */
  private moved(at: number, from: PeerId, x: number, y: number): void {
    const now = this.world.sim.now
    if (now < this.measureStart) return
    const q = this.byId.get(from)
    // Honest pairs only: a hostile peer's moves and view do not count.
    if (q === undefined || this.members[q]!.role !== undefined || this.members[at]!.role !== undefined) return
    const made = this.members[q]!.hist.when(x, y)
    if (made === undefined) return
    const path = this.members[at]!.local!.peer.links.link(from)?.conn?.path
    if (path?.kind === 'peer-relay') {
      this.latencyRelayed.add(now - made)
      if (path.relay !== undefined) {
        // What the relay adds to the path: the way through it less the direct way (base latencies, no queues).
        const net = this.world.net
        const to = this.members[at]!.id
        const legs = [net.oneWayMs(from, path.relay), net.oneWayMs(path.relay, to)] as const
        this.relayHop.add(legs[0] + legs[1] - net.oneWayMs(from, to))
        this.relayLeg.add(legs[0])
        this.relayLeg.add(legs[1])
      }
    } else this.latencyDirect.add(now - made)
  }

  /** Runs the whole measured run (unsplit). */
  run(): VonShardResult {
    this.world.sim.runUntil(this.endMs)
    const init = this.init
    if (this.recorder !== undefined) init.onTracks!(this.recorder.tracks(init, init.stepsPerSec, (i) => this.members[i]!.joinAt))
    return this.result()
  }

  /**
   * A replayed peer's track ended: it leaves the world as a real Peer's close
   * does (BYE to its neighbours, then every link closed) and its process ends.
   * Every shard drops it from the truth at once, as at a failure.
   */
  private leave(m: Member): void {
    if (!m.alive) return
    m.alive = false
    const local = m.local
    if (local !== undefined && m.joinAt >= 0) local.von.leave()
    // The BYEs go out first (a closing data channel sends what it holds; a simulated one drops it).
    this.world.sim.after(LEAVE_CLOSE_MS, () => {
      if (local === undefined) return this.world.net.crash(m.id)
      local.peer.links.close()
      this.world.crash(local.peer)
    })
  }

  /** Runs this shard's events before `t` (its window); records it makes take effect at `horizon` or later. */
  runBefore(t: number, horizon: number): void {
    this.outbox!.horizon = horizon
    this.world.sim.runBefore(t)
  }

  /** Runs the last events, at exactly the end time. */
  runToEnd(): void {
    this.outbox!.horizon = Infinity
    this.world.sim.runUntil(this.endMs)
  }

  /** Applies what another shard sent in its last window. */
  apply(buffer: ArrayBuffer): void {
    readRecords(buffer, (kind, time, a, bytes) => {
      if (kind === RecordKind.SIGNAL) this.world.signaling.applyRecord(time, bytes)
      else if (kind === JOINED) {
        const m = this.members[a]!
        if (m.joinedAt < 0) {
          m.joinedAt = time
          this.joined.push(m)
        }
      } else this.world.net.applyRecord(kind, time, a, bytes)
    })
  }

  private markJoined(m: Member): void {
    m.joinedAt = this.world.sim.now
    this.joined.push(m)
    const outbox = this.outbox
    if (outbox === undefined) return
    // Other shards' host caches hear of it from their next window on.
    for (let s = 0; s < this.shards; s++) if (s !== this.shard) outbox.post(s, JOINED, outbox.horizon, m.index)
  }

  private sample(): void {
    const now = this.world.sim.now
    for (const m of this.members) if (m.local !== undefined && m.joinedAt < 0 && m.local.von.joined) this.markJoined(m)
    const observers: Member[] = []
    const others: Observed[] = []
    for (const m of this.members) {
      // Hostile peers are neither observed nor need to be seen.
      if (!m.alive || m.joinedAt < 0 || m.role !== undefined) continue
      if (m.local !== undefined) observers.push(m)
      else others.push({ index: m.index, x: m.pos.x, y: m.pos.y, aoi: this.init.aoi, known: NONE })
    }
    this.init.onSample?.(now, observers.map((m) => ({ index: m.index, x: m.pos.x, y: m.pos.y, von: m.local!.von })))
    const observed = observers.map((m) => observe(m, this.byId))
    const s = sampleConsistency(observed, others)
    observers.forEach((m, i) => {
      if (m.completeAt < 0 && s.complete[i]) m.completeAt = now
    })
    let links = 0
    let linkMax = 0
    for (const m of observers) {
      const count = m.local!.peer.links.linkCount
      links += count
      if (count > linkMax) linkMax = count
    }
    let bytes = 0
    for (const m of this.members) if (m.local !== undefined && m.role === undefined) bytes += this.world.net.node(m.id)!.stats.bytesSent
    const victim = { hits: 0, shown: 0, truth: 0 }
    observers.forEach((m, i) => {
      if (!this.cast?.victims.includes(m.index)) return
      victim.hits += s.hitsOf[i]!
      victim.shown += s.shownOf[i]!
      victim.truth += s.truthOf[i]!
    })
    this.rows.push({
      t: now, hits: s.hits, truth: s.truth, driftSum: s.driftSum, driftMax: s.driftMax, links, linkMax, present: observers.length, bytesSent: bytes,
      shownHits: s.shownHits, victimHits: victim.hits, victimShown: victim.shown, victimTruth: victim.truth,
    })
    if (now >= this.measureStart && now <= this.endMs) {
      this.init.trace?.write({ t: now / 1000, peers: observed.map(traceRecord) })
      this.relayMeter.sample(this.localPeers())
    }
  }

  result(): VonShardResult {
    const span = this.init.seconds
    const mine = this.members.filter((m) => m.local !== undefined)
    const honest = mine.filter((m) => m.role === undefined)
    const stats = (m: Member) => this.world.net.node(m.id)!.stats
    const measured = honest.filter((m) => m.alive && m.joinedAt >= 0 && m.joinedAt <= this.measureStart)
    const alive = mine.filter((m) => m.alive && m.joinedAt >= 0)
    const vonStats = honest.map((m) => m.local!.von.stats)
    const linkStats = honest.map((m) => m.local!.peer.links.stats)
    return {
      rows: this.rows,
      sent: measured.map((m) => (stats(m).bytesSent - (this.snapshotStart.get(m.index)?.sent ?? 0)) / span),
      datagrams: measured.map((m) => (stats(m).messagesSent - (this.snapshotStart.get(m.index)?.datagrams ?? 0)) / span),
      wire: measured.map((m) => (stats(m).wireBytesSent - (this.snapshotStart.get(m.index)?.wire ?? 0)) / span),
      traffic: measured.reduce((t, m) => {
        const counter = this.world.net.node(m.id)!.traffic
        return counter === undefined ? t : addTraffic(t, counter)
      }, {} as TrafficTotals),
      received: measured.map((m) => (stats(m).bytesReceived - (this.snapshotStart.get(m.index)?.received ?? 0)) / span),
      joinLatencies: honest.filter((m) => m.completeAt >= 0 && m.joinAt >= 0).map((m) => m.completeAt - m.joinAt),
      alive: alive.map((m) => ({
        index: m.index,
        x: m.pos.x,
        y: m.pos.y,
        aoi: m.local!.von.aoi,
        tableSize: m.local!.von.table.size,
        neighbours: [...m.local!.von.table.values()].flatMap((n) => this.byId.get(n.id) ?? []).filter((j) => this.members[j]!.alive),
      })),
      peers: mine.length,
      joinedPeers: mine.filter((m) => m.joinedAt >= 0).length,
      shrunk: mine.filter((m) => m.local!.von.aoi < this.init.aoi - 1e-9).length,
      notifications: vonStats.reduce((a, s) => a + s.notificationsSent, 0),
      dropped: vonStats.reduce((a, s) => a + s.dropped, 0),
      badMessages: vonStats.reduce((a, s) => a + s.badMessages, 0),
      unlawful: vonStats.reduce((a, s) => a + s.unlawful, 0),
      joinLoops: vonStats.reduce((a, s) => a + s.joinLoops, 0),
      refusedQueries: vonStats.reduce((a, s) => a + s.refusedQueries, 0),
      unticketed: vonStats.reduce((a, s) => a + s.unticketed, 0),
      ticketsIssued: this.world.signaling.tickets?.stats.issued ?? 0,
      ticketsTooFar: this.world.signaling.tickets?.stats.tooFar ?? 0,
      introduced: linkStats.reduce((a, s) => a + s.introduced, 0),
      dialled: linkStats.reduce((a, s) => a + s.introduced + s.viaSignaling, 0),
      rejoins: this.rejoins,
      failed: this.failed,
      eventsRun: this.world.sim.eventsRun,
      traceHash: this.world.sim.traceHash,
      ...(this.world.sim.costs !== undefined ? { eventCosts: this.world.sim.costs.table() } : {}),
      latencyDirect: this.latencyDirect,
      latencyRelayed: this.latencyRelayed,
      relayHop: this.relayHop,
      relayLeg: this.relayLeg,
      relayLoads: this.relayMeter.loads(mine.map((m) => m.local!.peer), span),
      pathsAtEnd: sumCounts(alive.map((m) => m.local!.peer.links.pathCounts())),
      natCounts: sumCounts(mine.map((m) => ({ [m.nat ?? 'open']: 1 }))),
      tampered: mine.reduce((a, m) => a + (m.local!.peer.links.relays?.stats.tampered ?? 0), 0),
      circuitsRefused: mine.reduce((a, m) => a + (m.local!.peer.links.relays?.stats.circuitsRefused ?? 0), 0),
      reroute: mine.reduce(
        (a, m) => {
          const s = m.local!.peer.links.stats
          return { moved: a.moved + s.rerouted, msSum: a.msSum + s.rerouteMsSum, msMax: Math.max(a.msMax, s.rerouteMsMax), lost: a.lost + s.rerouteLost }
        },
        { moved: 0, msSum: 0, msMax: 0, lost: 0 },
      ),
      adversaries: this.tally.counts(
        honest.map((m) => m.local!.peer.links),
        this.members.map((m) => ({ id: m.id, hostile: m.role !== undefined })),
        mine.flatMap((m) => (m.adversary === undefined ? [] : [m.adversary])),
      ),
    }
  }
}

const NONE: ReadonlyMap<number, { x: number; y: number }> = new Map()

function relayBusy(peer: SimLinkPeer): boolean {
  const s = peer.links.relays?.stats
  return s !== undefined && (s.circuitsNow > 0 || s.reservationsNow > 0)
}

function sumCounts(rows: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of rows) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v
  return out
}

/** Gateways for a joiner at `p` (see VonRunInit.hostCache). */
function hostCache(live: readonly Member[], p: Point, kind: 'nearest' | 'random', rng: { int(n: number): number }): PeerId[] {
  if (live.length === 0) return []
  if (kind === 'random') return [0, 1, 2].map(() => live[rng.int(live.length)]!.id)
  const best: { d: number; m: Member }[] = []
  for (const m of live) {
    const d = (m.reported.x - p.x) ** 2 + (m.reported.y - p.y) ** 2
    if (best.length < 3 || d < best[best.length - 1]!.d) {
      best.push({ d, m })
      best.sort((a, b) => a.d - b.d || a.m.index - b.m.index)
      if (best.length > 3) best.pop()
    }
  }
  return best.map((b) => b.m.id)
}

function makeMobility(init: VonRunInit, box: { width: number; height: number }, rng: ReturnType<SimWorld['sim']['rng']>, now: () => number): Mobility {
  if (typeof init.mobility === 'object') return new ReplayMobility(init.mobility.replay, 1000 / init.stepsPerSec, now)
  switch (init.mobility) {
    case 'waypoint':
      return new RandomWaypoint(box, init.speed, rng)
    case 'hotspot':
      return new Hotspots(box, init.speed, rng, Math.max(2, Math.round(init.peers / 50)), init.aoi * 1.5, 0.05)
    case 'flash':
      return new FlashCrowd(box, init.speed, rng, { x: box.width / 2, y: box.height / 2 }, init.aoi / 2, Math.round(init.stepsPerSec * (init.joinSeconds + init.settleSeconds)))
    case 'keyboard':
      return new KeyboardMobility(box, init.speed, rng, { stepsPerSec: init.stepsPerSec })
  }
}

function observe(m: Member, byId: ReadonlyMap<PeerId, number>): Observed {
  const known = new Map<number, { x: number; y: number; shown: boolean }>()
  const now = m.local!.peer.env.clock.now()
  for (const n of m.local!.von.table.values()) {
    // Ids no peer has (invented by an adversary) are nobody's.
    const q = byId.get(n.id)
    if (q !== undefined) known.set(q, { ...NeighbourTable.predict(n, now), shown: n.confirmed })
  }
  return { index: m.index, x: m.pos.x, y: m.pos.y, aoi: m.local!.von.aoi, known }
}

function traceRecord(o: Observed): unknown {
  const r = (v: number): number => Math.round(v * 100) / 100
  return { p: o.index, x: r(o.x), y: r(o.y), r: r(o.aoi), known: [...o.known].map(([q, b]) => [q, r(b.x), r(b.y)]) }
}

/** One honest peer in this many reads its node lists (see AdversaryTally.witness). */
const WITNESS_EVERY = 10
