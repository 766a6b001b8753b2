import { PLAYER_NS, mutableKey } from '../../kademlia/records.js'
import { PlayerStateService } from '../../services/player-state/player-state.js'
import { numberOption, type MetricValue, type Scenario, type ScenarioArgs, type ScenarioResult, type Series } from '../scenario.js'
import { mean, percentile } from '../stats.js'
import { KAD_INTERSESSION, KAD_SESSION, playerSessions, weibullMeanMs } from '../workloads/dht-churn-model.js'
import { ExtraReturns, joinNew, seedPriorStates, type ChurnPlayer } from '../workloads/dht-churn-players.js'
import { ChurnReads } from '../workloads/dht-churn-reads.js'
import { DhtNetwork, type DhtPeer } from '../workloads/dht-network.js'
import { LookupProbe, dhtBytes } from '../workloads/dht-probes.js'

type Player = ChurnPlayer

const LEAVE_WAIT_MS = 5000
const WRITES_KEPT = 4

/**
 * npm run sim -- --scenario dht-churn --peers 1000 --seconds 14400 [--flush-s 10] [--keepalive-ms 10000]
 *   [--lookup-every-s 10] [--read-every-s 5] [--return-every-s 8] [--seed-span-s 600] [--warmup-days 14]
 *   [--churn-speed 1] [--trace]
 *
 * --peers players, each online and offline in turn with the KAD-measured Weibull
 * session (shape 0.615, scale 169.5 min) and inter-session times (shape 0.476,
 * scale 413.7 min), started in the steady state. A session is a new browser: a
 * new peer id and an empty local store, only the player's key carried over. It
 * joins, reads the player's state from the DHT, moves once a second (the
 * player-state service writes in batches, every --flush-s at most), and on
 * leaving writes once more and waits for that write (at most 5 s) before going.
 *
 * Players offline at the start played before it: their last state is written
 * (signed by them, stored through a random online peer) in the first minutes, so
 * every scheduled return reads a state. Reads, each judged against the newest
 * seq the owner ever wrote: every return of a scheduled session; every
 * --return-every-s an extra return (a new browser with a random offline
 * player's key joins, reads, and goes: the same path, to resolve 99.9 %); every
 * --read-every-s a random online peer reading a random offline player. With
 * --trace, every miss is written with which live peers hold which seq.
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
    const readEveryMs = numberOption(o, 'read-every-s', 5) * 1000
    const returnEveryMs = numberOption(o, 'return-every-s', 8) * 1000
    const net = new DhtNetwork({ seed: args.seed, link: { keepaliveMs, deadAfterMs: 3 * keepaliveMs } })
    const sim = net.sim
    const rng = sim.rng('dht-churn')
    const timeline = sim.rng('churn-timeline')
    const warmupMs = numberOption(o, 'warmup-days', 14) * 86_400_000
    // A stress option: sessions and gaps this many times shorter (more leaves and returns per hour).
    const speed = numberOption(o, 'churn-speed', 1)
    const on = { ...KAD_SESSION, scaleMs: KAD_SESSION.scaleMs / speed }
    const off = { ...KAD_INTERSESSION, scaleMs: KAD_INTERSESSION.scaleMs / speed }
    const players: Player[] = Array.from({ length: args.peers }, (_, index) => {
      const key = net.world.crypto.keyPairFromSeed(sim.rng(`player:${index}`).bytes(32))
      return {
        index,
        key,
        recordKey: mutableKey(net.world.crypto, PLAYER_NS, key.publicKey),
        sessions: playerSessions(timeline, untilMs, warmupMs, on, off),
        newest: 0,
        acked: 0,
        seeded: false,
        endAt: -1,
        goneAt: -1,
        writes: [],
        peer: undefined,
        svc: undefined,
        leaving: false,
        probing: false,
        x: rng.next() * 1000,
        y: rng.next() * 1000,
      }
    })
    const reads = new ChurnReads(net, args.trace)
    const extra = new ExtraReturns(net, rng, reads)
    const probes = extra.live
    const leaves = { writes: 0, acked: 0, waitMs: [] as number[] }
    let retries = 0
    let sessionsStarted = 0
    let onlineMs = 0
    let lastChange = 0
    const account = (): void => {
      onlineMs += (sim.now - lastChange) * (net.liveCount - probes.size)
      lastChange = sim.now
    }
    const noteWrite = (p: Player, seq: number, leave: boolean): void => {
      p.writes = [...p.writes.slice(1 - WRITES_KEPT), { seq, at: sim.now, leave, stored: undefined }]
    }

    const begin = (p: Player): void => {
      account()
      sessionsStarted++
      const peer = net.addPeer()
      p.peer = peer
      joinNew(net, rng, peer, () => {
        if (p.peer !== peer || !peer.alive) return
        const onWrite = (seq: number, r: { stored: number }): void => {
          if (r.stored > 0) p.acked = Math.max(p.acked, seq)
          // Flushes by the service's own timer are noted when answered; the leave's when signed.
          if (!p.writes.some((x) => x.seq === seq)) noteWrite(p, seq, false)
          const w = p.writes.find((x) => x.seq === seq)!
          w.stored = Math.max(w.stored ?? 0, r.stored)
        }
        const svc = new PlayerStateService({ env: peer.env, dht: peer.dht.records, key: p.key }, { flushIntervalMs: flushMs, onWrite })
        p.svc = svc
        const done = p.newest > 0 ? reads.begin('return', p, svc.key) : undefined
        svc.resume(null, (r) => {
          done?.(r.dhtSeq ?? 0)
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
      const t0 = sim.now
      let gone = false
      const go = (acked: boolean): void => {
        if (gone) return
        gone = true
        p.leaving = false
        p.goneAt = sim.now
        if (svc !== undefined) {
          leaves.writes++
          if (acked) leaves.acked++
          leaves.waitMs.push(sim.now - t0)
          retries += svc.stats.retries
        }
        account()
        net.crash(peer)
      }
      p.endAt = t0
      if (svc === undefined) return go(false)
      p.leaving = true
      const before = svc.seq
      svc.leave((r) => go(r !== null ? r.stored > 0 : p.acked >= p.newest))
      if (svc.seq > before) noteWrite(p, svc.seq, true)
      p.newest = Math.max(p.newest, svc.seq)
      p.seeded = false
      peer.env.timers.setTimeout(() => go(false), LEAVE_WAIT_MS)
      // A read racing the leave's write (what the first version of this scenario counted as an offline read).
      sim.after(50, () => {
        const from = net.randomJoined(rng, peer)
        if (from === undefined || probes.has(from)) return
        const done = reads.begin('leaving', p, p.recordKey)
        from.dht.records.get(p.recordKey, (g) => done(g.record !== null && g.record.kind === 1 ? g.record.seq : 0))
      })
    }

    for (const p of players) {
      for (const s of p.sessions) {
        // Players online when the run starts arrive over its first minute, as the world opens.
        sim.at(s.ongoing ? Math.min(rng.next() * 60_000, s.endMs / 2) : s.startMs, () => begin(p))
        if (Number.isFinite(s.endMs)) sim.at(s.endMs, () => end(p))
      }
    }

    // Players offline at the start played before it: their last state, written over minutes 2-12 (--seed-span-s).
    const seedFromMs = 120_000
    const seedSpanMs = numberOption(o, 'seed-span-s', 600) * 1000
    const toSeed = seedPriorStates(net, rng, players, seedFromMs, seedSpanMs)

    const probe = new LookupProbe(net, rng)
    const probeTick = (): void => {
      if (sim.now >= untilMs) return
      if (net.joinedCount() > 20) probe.issue()
      sim.after(lookupEveryMs, probeTick)
    }
    sim.after(120_000, probeTick)

    const offline = (): Player[] => players.filter((p) => p.newest > 0 && p.peer === undefined && !p.leaving && !p.probing)
    // Reads of offline players' state by others, all along the run.
    const readTick = (): void => {
      if (sim.now >= untilMs) return
      sim.after(readEveryMs, readTick)
      const from = net.randomJoined(rng)
      const candidates = offline()
      if (candidates.length === 0 || from === undefined || probes.has(from)) return
      const p = candidates[rng.int(candidates.length)]!
      const done = reads.begin('other', p, p.recordKey)
      from.dht.records.get(p.recordKey, (g) => done(g.record !== null && g.record.kind === 1 ? g.record.seq : 0))
    }
    sim.after(seedFromMs + seedSpanMs + 60_000, readTick)

    // Extra returns: a new browser with an offline player's key joins, reads its state, goes.
    const returnTick = (): void => {
      if (sim.now >= untilMs) return
      sim.after(returnEveryMs, returnTick)
      extra.issue(offline())
    }
    sim.after(seedFromMs + seedSpanMs + 60_000, returnTick)

    const online: [number, number][] = []
    const bytesSeries: [number, number][] = []
    let lastBytes = 0
    const sampleMs = 300_000
    const playerPeers = (): DhtPeer[] => net.peers.filter((q) => !extra.all.has(q))
    const sample = (): void => {
      online.push([sim.now / 1000, net.liveCount - probes.size])
      const b = dhtBytes(playerPeers()).total
      bytesSeries.push([sim.now / 1000, (b - lastBytes) / Math.max(1, net.liveCount - probes.size) / (sampleMs / 1000)])
      lastBytes = b
      args.progress(Math.min(0.95, sim.now / untilMs))
      if (sim.now + sampleMs <= untilMs) sim.after(sampleMs, sample)
    }
    sim.after(sampleMs, sample)
    sim.runUntil(untilMs)
    account()
    const bytes = dhtBytes(playerPeers())
    const peerSeconds = onlineMs / 1000

    // Durability: every player who ever wrote and is offline now, read from a random online peer.
    const durability: boolean[] = []
    const atEnd = players.filter((p) => p.newest > 0 && p.peer === undefined && !p.leaving)
    for (const p of atEnd) {
      const from = net.randomJoined(rng)
      from?.dht.records.get(p.recordKey, (g) => durability.push(g.record !== null && g.record.kind === 1 && g.record.seq >= p.newest))
    }
    sim.runWhile(() => durability.length < atEnd.length, untilMs + 300_000)

    const readMetrics = reads.metrics()
    const returnLatency = reads.samples.filter((r) => r.kind === 'return').map((r) => r.latencyMs).sort((a, b) => a - b)
    const leaveWait = [...leaves.waitMs].sort((a, b) => a - b)
    const metrics: Record<string, MetricValue> = {
      ...readMetrics,
      returningReadLatencyMsMedian: percentile(returnLatency, 0.5),
      ...probe.metrics(),
      dhtBytesPerPeerPerSecMean: bytes.total / peerSeconds,
      dhtMaintenanceBytesPerPeerPerSecMean: bytes.maintenance / peerSeconds,
      dhtAppBytesPerPeerPerSecMean: bytes.app / peerSeconds,
      durabilityNewestShare: durability.length === 0 ? null : durability.filter((d) => d).length / durability.length,
      durabilityReads: durability.length,
      leaveWrites: leaves.writes,
      leaveWritesAckedBeforeGoing: leaves.acked,
      leaveWaitMsMedian: percentile(leaveWait, 0.5),
      leaveWaitMsP99: percentile(leaveWait, 0.99),
      writeRetries: retries,
      seededPlayers: toSeed.length,
      probeJoinsFailed: extra.joinsFailed,
      players: args.peers,
      sessions: sessionsStarted,
      onlineMean: peerSeconds / args.seconds,
      sessionMeanMin: weibullMeanMs(on) / 60_000,
      interSessionMeanMin: weibullMeanMs(off) / 60_000,
      flushSeconds: flushMs / 1000,
      keepaliveMs,
      events: sim.eventsRun,
    }
    const bins = new Map<number, { n: number; newest: number }>()
    for (const r of reads.samples) {
      if (r.kind === 'other') continue
      const b = Math.floor(r.at / 1_800_000)
      const bin = bins.get(b) ?? { n: 0, newest: 0 }
      bin.n++
      if (r.newest) bin.newest++
      bins.set(b, bin)
    }
    const series: Series[] = [
      { name: 'peers online', unit: 'peers', points: online },
      { name: 'DHT bytes sent per online peer', unit: 'B/s', points: bytesSeries },
      {
        name: 'returning-owner reads getting the newest state (30 min bins)',
        unit: 'share',
        points: [...bins].sort((a, b) => a[0] - b[0]).map(([b, x]) => [(b + 0.5) * 1800, x.newest / x.n]),
      },
      ...probe.series(600_000),
    ]
    const notes = [
      `${args.peers} players with KAD Weibull churn (mean session ${(weibullMeanMs(on) / 60_000).toFixed(0)} min, mean offline ${(weibullMeanMs(off) / 60_000).toFixed(0)} min), ${mean(online.map((x) => x[1])).toFixed(0)} online on average; every session is a new browser (new peer id, empty local store), so every returning owner reads from the DHT alone.`,
      `Players move once a second; the player-state service writes at most every ${flushMs / 1000} s while they play and once more when they leave (the leaver waits until 10 holders have it, at most ${LEAVE_WAIT_MS / 1000} s). "Newest" is the highest seq the owner ever wrote, whether or not that write was acknowledged.`,
      `${toSeed.length} players offline at the start get their prior state written from minute 2 on; an extra return every ${returnEveryMs / 1000} s (a new browser with an offline player's key joins, reads, goes) adds returning-owner reads.`,
      `Link keepalive ${keepaliveMs} ms, dead after ${3 * keepaliveMs} ms (about what WebRTC's consent checks give without app keepalives); the link layer's 500 ms default would multiply the simulation's cost.`,
    ]
    return { metrics, series, notes }
  },
}
