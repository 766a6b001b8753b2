import { utf8 } from '../../core/bytes.js'
import type { GetResult } from '../../kademlia/record-ops.js'
import { PLAYER_NS, mutableKey, signMutable } from '../../kademlia/records.js'
import { numberOption, type MetricValue, type Scenario, type ScenarioArgs, type ScenarioResult, type Series } from '../scenario.js'
import { mean, percentile } from '../stats.js'
import { DhtNetwork, type DhtPeer } from '../workloads/dht-network.js'
import { LookupProbe, dhtBytes, sampledOneWayMs, siblingCoverage } from '../workloads/dht-probes.js'

/**
 * npm run sim -- --scenario dht-lookup --peers 10000 [--seconds 120] [--lookups 1000] [--records 200]
 *   [--one-way-ms 50] [--grow-rate 0.05] [--max-join-rate 100] [--settle-s 60] [--keepalive-ms 120000] [--connect-ahead 3]
 *
 * The network grows to --peers by joins through random peers (each joined peer
 * brings in --grow-rate newcomers a second, at most --max-join-rate a second),
 * settles, then for --seconds issues lookups for random targets from random
 * peers and player-record puts and gets. Every link, including the ones a
 * lookup opens, is set up through the link layer and charged its real cost.
 */
export const dhtLookupScenario: Scenario = {
  name: 'dht-lookup',
  description: 'Kademlia lookups and gets vs the true 20 closest (rounds, latency with link setup, bytes)',
  defaults: { peers: 1000, seconds: 120 },
  run(args: ScenarioArgs): ScenarioResult {
    const o = args.options
    const lookups = numberOption(o, 'lookups', 1000)
    const records = numberOption(o, 'records', 200)
    const settleMs = numberOption(o, 'settle-s', 60) * 1000
    const keepaliveMs = numberOption(o, 'keepalive-ms', 120_000)
    const windowMs = args.seconds * 1000
    const net = new DhtNetwork({
      seed: args.seed,
      oneWayMsMean: numberOption(o, 'one-way-ms', 50),
      link: { keepaliveMs, deadAfterMs: 3 * keepaliveMs },
      kad: { connectAhead: numberOption(o, 'connect-ahead', 3) },
    })
    const sim = net.sim
    const rng = sim.rng('dht-lookup')
    const growth: [number, number][] = []
    const joinMs: number[] = []
    const joinLookups: number[] = []
    net.grow(args.peers, {
      perPeerPerSec: numberOption(o, 'grow-rate', 0.05),
      maxPerSec: numberOption(o, 'max-join-rate', 100),
      rng: sim.rng('grow'),
      onJoined: (_p, r) => {
        if (r !== undefined) {
          joinMs.push(r.durationMs)
          joinLookups.push(r.lookups)
        }
        const n = joinMs.length + 1
        if (n % Math.max(1, Math.floor(args.peers / 100)) === 0) {
          growth.push([sim.now / 1000, n])
          args.progress((0.7 * n) / args.peers)
        }
      },
    })
    const grownAt = sim.now
    sim.runUntil(sim.now + settleMs)
    const start = sim.now
    const bytesAtStart = dhtBytes(net.peers)
    const wireAtStart = wireBytesSent(net)

    // The workload: lookups and player-record puts/gets, spread over the window.
    const probe = new LookupProbe(net, rng)
    for (let i = 0; i < lookups; i++) sim.at(start + rng.next() * windowMs * 0.8, () => probe.issue())
    const gets: { newest: boolean; found: boolean; latencyMs: number }[] = []
    const putStored: number[] = []
    for (let i = 0; i < records; i++) {
      const at = start + rng.next() * windowMs * 0.6
      sim.at(at, () => playerRecord(net.randomJoined(rng)!, net.randomJoined(rng)!, putStored, gets))
    }

    const bytesSeries: [number, number][] = []
    const linksSeries: [number, number][] = []
    let last = dhtBytes(net.peers).total
    const sample = (): void => {
      const now = dhtBytes(net.peers).total
      bytesSeries.push([sim.now / 1000, (now - last) / net.liveCount / 5])
      last = now
      let links = 0
      for (const p of net.peers) links += p.links.linkCount
      linksSeries.push([sim.now / 1000, links / net.liveCount])
      if (sim.now < start + windowMs) sim.after(5000, sample)
    }
    sim.after(5000, sample)
    const end = start + windowMs
    let lastProgress = 0
    sim.runWhile(() => {
      if (sim.now - lastProgress > 1000) {
        lastProgress = sim.now
        args.progress(0.7 + (0.3 * Math.min(1, (sim.now - start) / windowMs)))
      }
      return sim.now < end || probe.pending > 0 || gets.length < records
    }, end + 60_000)

    const seconds = (sim.now - start) / 1000
    const bytes = dhtBytes(net.peers)
    const n = net.liveCount
    const tableSizes = net.peers.map((p) => p.dht.table.size)
    const metrics: Record<string, MetricValue> = {
      ...probe.metrics(),
      getNewestShare: gets.length === 0 ? null : gets.filter((g) => g.newest).length / gets.length,
      getFoundShare: gets.length === 0 ? null : gets.filter((g) => g.found).length / gets.length,
      gets: gets.length,
      getLatencyMsMedian: percentile(gets.map((g) => g.latencyMs).sort((a, b) => a - b), 0.5),
      putStoredMedian: percentile(putStored.sort((a, b) => a - b), 0.5),
      dhtBytesPerPeerPerSecMean: (bytes.total - bytesAtStart.total) / n / seconds,
      dhtMaintenanceBytesPerPeerPerSecMean: (bytes.maintenance - bytesAtStart.maintenance) / n / seconds,
      dhtAppBytesPerPeerPerSecMean: (bytes.app - bytesAtStart.app) / n / seconds,
      linkBytesPerPeerPerSecMean: (wireBytesSent(net) - wireAtStart) / n / seconds,
      joinMsMedian: percentile(joinMs.sort((a, b) => a - b), 0.5),
      joinLookupsMean: mean(joinLookups),
      growSeconds: grownAt / 1000,
      measuredSeconds: seconds,
      oneWayMsMean: sampledOneWayMs(net, sim.rng('latency-sample')),
      siblingCoverage: siblingCoverage(net, sim.rng('coverage')),
      routingTableSizeMean: mean(tableSizes),
      linksPerPeerMean: mean(net.peers.map((p) => p.links.linkCount)),
      insistedLinksPerPeerMean: mean(net.peers.map((p) => p.dht.table.insistedSet().size)),
      honouredLinksPerPeerMean: mean(net.peers.map((p) => p.dht.keeper.honouredCount)),
      linksOpenedPerPeer: mean(net.peers.map((p) => p.links.stats.opened)),
      keepaliveMs,
      events: sim.eventsRun,
    }
    const series: Series[] = [
      { name: 'peers joined', unit: 'peers', points: growth },
      ...probe.series(10_000),
      { name: 'DHT bytes sent per peer', unit: 'B/s', points: bytesSeries },
      { name: 'links per peer', unit: 'links', points: linksSeries },
    ]
    const notes = [
      `${args.peers} peers joined in ${(grownAt / 1000).toFixed(0)} virtual s through random peers (first link via the signaling node, every later one introduced by the peer that returned the contact); measured for ${seconds.toFixed(0)} s after ${settleMs / 1000} s of settling.`,
      `Lookup accuracy is judged against the true 20 closest among all ${n} live ids at the moment each lookup starts; latency includes setting up every link the lookup needs.`,
      `Link keepalive ${keepaliveMs} ms (link layer default 500 ms): no peer fails in this scenario, so it changes no DHT figure, only the simulation's cost. DHT bytes are the DHT's own frames; link bytes add keepalives, signaling relays and packet headers.`,
    ]
    return { metrics, series, notes }
  },
}

/** An owner writes seq 1 then seq 2 of its player record; another peer reads it 5 s later. */
function playerRecord(owner: DhtPeer, reader: DhtPeer, putStored: number[], gets: { newest: boolean; found: boolean; latencyMs: number }[]): void {
  const sim = owner.env.clock
  const records = owner.dht.records
  records.put(signMutable(owner.keyPair, PLAYER_NS, 1, utf8('state 1')), () => {
    records.put(signMutable(owner.keyPair, PLAYER_NS, 2, utf8('state 2')), (r) => {
      putStored.push(r.stored)
      owner.env.timers.setTimeout(() => {
        const t0 = sim.now()
        const key = mutableKey(owner.env.crypto, PLAYER_NS, owner.keyPair.publicKey)
        reader.dht.records.get(key, (g: GetResult) => {
          const seq = g.record !== null && g.record.kind === 1 ? g.record.seq : -1
          gets.push({ newest: seq === 2, found: seq > 0, latencyMs: sim.now() - t0 })
        })
      }, 5000)
    }, { reuseHoldersMs: 60_000 })
  })
}

function wireBytesSent(net: DhtNetwork): number {
  let sum = 0
  for (const p of net.peers) sum += net.world.net.node(p.id)!.stats.wireBytesSent
  return sum
}
