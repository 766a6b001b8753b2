import type { KeyPair } from '../../core/env.js'
import { PLAYER_NS, mutableKey } from '../../kademlia/records.js'
import { PlayerStateService } from '../../services/player-state/player-state.js'
import { numberOption, type MetricValue, type Scenario, type ScenarioArgs, type ScenarioResult, type Series } from '../scenario.js'
import { mean, percentile } from '../stats.js'
import { KAD_INTERSESSION, KAD_SESSION, playerSessions, weibullMeanMs, type Session } from '../workloads/dht-churn-model.js'
import { DhtNetwork, type DhtPeer } from '../workloads/dht-network.js'
import { LookupProbe, dhtBytes } from '../workloads/dht-probes.js'

interface Player {
  readonly index: number
  readonly key: KeyPair
  readonly sessions: readonly Session[]
  /** Highest seq this player has written (issued) so far. */
  newest: number
  /** Highest seq a write of which at least one peer acknowledged. */
  acked: number
  peer: DhtPeer | undefined
  svc: PlayerStateService | undefined
  x: number
  y: number
}

interface Read {
  readonly at: number
  readonly newest: boolean
  /** Got the newest write that had been acknowledged when the read started. */
  readonly newestAcked: boolean
  readonly found: boolean
  readonly latencyMs: number
}

/**
 * npm run sim -- --scenario dht-churn --peers 1000 --seconds 14400 [--flush-s 10] [--keepalive-ms 10000]
 *   [--lookup-every-s 10] [--read-every-s 5] [--warmup-days 14]
 *
 * --peers players, each online and offline in turn with the KAD-measured Weibull
 * session (shape 0.615, scale 169.5 min) and inter-session times (shape 0.476,
 * scale 413.7 min), started in the steady state. A session is a new browser: a
 * new peer id and an empty local store, only the player's key carried over. It
 * joins, reads the player's state from the DHT, moves once a second (state
 * written in batches every --flush-s), and on leaving writes once more and waits
 * for the write (at most 5 s) before going. Reads by returning owners are judged
 * against the newest seq the owner ever wrote. Every --read-every-s, a random online
 * peer also reads a random offline player's state (judged the same way).
 */
export const dhtChurnScenario: Scenario = {
  name: 'dht-churn',
  description: 'Player state in the DHT under KAD Weibull churn: newest-state reads by returning owners, bandwidth',
  defaults: { peers: 1000, seconds: 4 * 3600 },
  run(args: ScenarioArgs): ScenarioResult {
    const o = args.options
    const untilMs = args.seconds * 1000
    const flushMs = numberOption(o, 'flush-s', 10) * 1000
    const keepaliveMs = numberOption(o, 'keepalive-ms', 10_000)
    const lookupEveryMs = numberOption(o, 'lookup-every-s', 10) * 1000
    const leaveWaitMs = 5000
    const net = new DhtNetwork({ seed: args.seed, link: { keepaliveMs, deadAfterMs: 3 * keepaliveMs } })
    const sim = net.sim
    const rng = sim.rng('dht-churn')
    const timeline = sim.rng('churn-timeline')
    const warmupMs = numberOption(o, 'warmup-days', 14) * 86_400_000
    const players: Player[] = Array.from({ length: args.peers }, (_, index) => ({
      index,
      key: net.world.crypto.keyPairFromSeed(sim.rng(`player:${index}`).bytes(32)),
      sessions: playerSessions(timeline, untilMs, warmupMs),
      newest: 0,
      acked: 0,
      peer: undefined,
      svc: undefined,
      x: rng.next() * 1000,
      y: rng.next() * 1000,
    }))

    const reads: Read[] = []
    let sessionsStarted = 0
    let onlineMs = 0
    let lastChange = 0
    const account = (): void => {
      onlineMs += (sim.now - lastChange) * net.liveCount
      lastChange = sim.now
    }

    const begin = (p: Player): void => {
      account()
      sessionsStarted++
      const peer = net.addPeer()
      p.peer = peer
      net.join(peer, net.randomJoined(rng, peer), () => {
        if (p.peer !== peer || !peer.alive) return
        const onWrite = (seq: number, r: { stored: number }): void => {
          if (r.stored > 0) p.acked = Math.max(p.acked, seq)
        }
        const svc = new PlayerStateService({ env: peer.env, dht: peer.dht.records, key: p.key }, { flushIntervalMs: flushMs, onWrite })
        p.svc = svc
        const t0 = sim.now
        const wrote = p.newest
        const acked = p.acked
        svc.resume(null, (r) => {
          const seq = r.dhtSeq ?? 0
          if (wrote > 0) reads.push({ at: t0, newest: seq === wrote, newestAcked: seq >= acked, found: seq > 0, latencyMs: sim.now - t0 })
          if (p.svc === svc) play(p, svc, peer)
        })
      })
    }
    const play = (p: Player, svc: PlayerStateService, peer: DhtPeer): void => {
      const step = (): void => {
        if (p.svc !== svc || !peer.alive) return
        p.x += (rng.next() - 0.5) * 20
        p.y += (rng.next() - 0.5) * 20
        const patch = rng.next() < 0.02 ? { stats: { coins: rng.int(1000), level: 1 + rng.int(50) } } : {}
        svc.update({ x: p.x, y: p.y, ...patch })
        peer.env.timers.setTimeout(step, 1000)
      }
      step()
    }
    const end = (p: Player): void => {
      const peer = p.peer
      const svc = p.svc
      p.peer = undefined
      p.svc = undefined
      if (peer === undefined) return
      let gone = false
      const go = (): void => {
        if (gone) return
        gone = true
        account()
        net.crash(peer)
      }
      if (svc !== undefined) {
        svc.leave(() => go())
        p.newest = Math.max(p.newest, svc.seq)
      }
      if (svc === undefined) go()
      else peer.env.timers.setTimeout(go, leaveWaitMs)
    }

    for (const p of players) {
      for (const s of p.sessions) {
        // Players online when the run starts arrive over its first minute, as the world opens.
        sim.at(s.ongoing ? Math.min(rng.next() * 60_000, s.endMs / 2) : s.startMs, () => begin(p))
        if (Number.isFinite(s.endMs)) sim.at(s.endMs, () => end(p))
      }
    }

    const probe = new LookupProbe(net, rng)
    const probeTick = (): void => {
      if (sim.now >= untilMs) return
      if (net.joinedCount() > 20) probe.issue()
      sim.after(lookupEveryMs, probeTick)
    }
    sim.after(120_000, probeTick)

    // Reads of offline players' state by others, all along the run: the same property
    // as an owner's return (the newest state outlives its writer's session), sampled
    // often enough to resolve a 99.9 % goal, which returning owners alone cannot in 4 h.
    const offlineReads: { newest: boolean; newestAcked: boolean }[] = []
    const readEveryMs = numberOption(o, 'read-every-s', 5) * 1000
    const readTick = (): void => {
      if (sim.now >= untilMs) return
      sim.after(readEveryMs, readTick)
      const offline = players.filter((p) => p.newest > 0 && p.peer === undefined)
      const from = net.randomJoined(rng)
      if (offline.length === 0 || from === undefined) return
      const p = offline[rng.int(offline.length)]!
      const wrote = p.newest
      const acked = p.acked
      const key = mutableKey(net.world.crypto, PLAYER_NS, p.key.publicKey)
      from.dht.records.get(key, (g) => {
        const seq = g.record !== null && g.record.kind === 1 ? g.record.seq : 0
        offlineReads.push({ newest: seq === wrote, newestAcked: seq >= acked })
      })
    }
    sim.after(120_000, readTick)

    const online: [number, number][] = []
    const bytesSeries: [number, number][] = []
    let lastBytes = 0
    const sampleMs = 300_000
    const sample = (): void => {
      online.push([sim.now / 1000, net.liveCount])
      const b = dhtBytes(net.peers).total
      bytesSeries.push([sim.now / 1000, (b - lastBytes) / Math.max(1, net.liveCount) / (sampleMs / 1000)])
      lastBytes = b
      args.progress(Math.min(0.95, sim.now / untilMs))
      if (sim.now + sampleMs <= untilMs) sim.after(sampleMs, sample)
    }
    sim.after(sampleMs, sample)
    sim.runUntil(untilMs)
    account()
    const bytes = dhtBytes(net.peers)
    const peerSeconds = onlineMs / 1000

    // Durability: every player who ever wrote and is offline now, read from a random online peer.
    const durability: boolean[] = []
    for (const p of players) {
      if (p.newest === 0 || p.peer !== undefined) continue
      const key = mutableKey(net.world.crypto, PLAYER_NS, p.key.publicKey)
      const from = net.randomJoined(rng)
      from?.dht.records.get(key, (g) => durability.push(g.record !== null && g.record.kind === 1 && g.record.seq === p.newest))
    }
    const wanted = players.filter((p) => p.newest > 0 && p.peer === undefined).length
    sim.runWhile(() => durability.length < wanted, untilMs + 300_000)

    const latency = reads.map((r) => r.latencyMs).sort((a, b) => a - b)
    const metrics: Record<string, MetricValue> = {
      getNewestShare: reads.length === 0 ? null : reads.filter((r) => r.newest).length / reads.length,
      getNewestAckedShare: reads.length === 0 ? null : reads.filter((r) => r.newestAcked).length / reads.length,
      returningReads: reads.length,
      returningReadsStale: reads.filter((r) => r.found && !r.newest).length,
      returningReadsMissing: reads.filter((r) => !r.found).length,
      returningReadLatencyMsMedian: percentile(latency, 0.5),
      ...probe.metrics(),
      dhtBytesPerPeerPerSecMean: bytes.total / peerSeconds,
      dhtMaintenanceBytesPerPeerPerSecMean: bytes.maintenance / peerSeconds,
      dhtAppBytesPerPeerPerSecMean: bytes.app / peerSeconds,
      offlineReads: offlineReads.length,
      offlineReadNewestShare: offlineReads.length === 0 ? null : offlineReads.filter((r) => r.newest).length / offlineReads.length,
      offlineReadNewestAckedShare: offlineReads.length === 0 ? null : offlineReads.filter((r) => r.newestAcked).length / offlineReads.length,
      durabilityNewestShare: durability.length === 0 ? null : durability.filter((d) => d).length / durability.length,
      durabilityReads: durability.length,
      players: args.peers,
      sessions: sessionsStarted,
      onlineMean: peerSeconds / args.seconds,
      sessionMeanMin: weibullMeanMs(KAD_SESSION) / 60_000,
      interSessionMeanMin: weibullMeanMs(KAD_INTERSESSION) / 60_000,
      flushSeconds: flushMs / 1000,
      keepaliveMs,
      events: sim.eventsRun,
    }
    const readBins = new Map<number, Read[]>()
    for (const r of reads) {
      const b = Math.floor(r.at / 1_800_000)
      readBins.set(b, [...(readBins.get(b) ?? []), r])
    }
    const series: Series[] = [
      { name: 'peers online', unit: 'peers', points: online },
      { name: 'DHT bytes sent per online peer', unit: 'B/s', points: bytesSeries },
      {
        name: 'returning-owner reads getting the newest state (30 min bins)',
        unit: 'share',
        points: [...readBins].sort((a, b) => a[0] - b[0]).map(([b, rs]) => [(b + 0.5) * 1800, rs.filter((r) => r.newest).length / rs.length]),
      },
      ...probe.series(600_000),
    ]
    const notes = [
      `${args.peers} players with KAD Weibull churn (mean session ${(weibullMeanMs(KAD_SESSION) / 60_000).toFixed(0)} min, mean offline ${(weibullMeanMs(KAD_INTERSESSION) / 60_000).toFixed(0)} min), ${mean(online.map((x) => x[1])).toFixed(0)} online on average; every session is a new browser (new peer id, empty local store), so every returning owner reads from the DHT alone.`,
      `Players move once a second; their state is written every ${flushMs / 1000} s while they play and once more when they leave. "Newest" is the highest seq the owner ever wrote, whether or not that write was acknowledged.`,
      `Link keepalive ${keepaliveMs} ms, dead after ${3 * keepaliveMs} ms (about what WebRTC's consent checks give without app keepalives); the link layer's 500 ms default would multiply the simulation's cost.`,
    ]
    return { metrics, series, notes }
  },
}
