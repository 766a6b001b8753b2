import { numberOption, type MetricValue, type Scenario, type ScenarioArgs } from '../scenario.js'
import { runVon, type VonRunInit } from '../von-world.js'
import { DEFAULT_NAT_SHARES, natOptions } from '../nat-model.js'
import type { MobilityName } from '../mobility.js'
import { checkTracksFit } from '../replay.js'
import { checkTracksWritable, readTracksFile, writeTracksFile } from '../replay-file.js'
import { parseAttacks, type AdversaryInit } from '../adversaries.js'

/** VAST's workload: 100 peers in 1200 x 1200, AOI 100, 5 units/step at 10 steps/s. */
const VAST = { width: 1200, peers: 100, aoi: 100, speed: 5, stepsPerSec: 10 }
const VAST_DENSITY = VAST.peers / (VAST.width * VAST.width)

/** Flags shared by every VON scenario: --world, --aoi, --speed, --steps-per-sec, --join-seconds, --mobility ... */
function base(args: ScenarioArgs, d: { world: number; aoi: number; speed: number; mobility: MobilityName }): VonRunInit {
  const o = args.options
  const world = numberOption(o, 'world', d.world)
  const stepsPerSec = numberOption(o, 'steps-per-sec', VAST.stepsPerSec)
  const mobility = mobilityOf(args, d.mobility)
  // A replay takes its world and step rate from the file (mobilityOf refused flags that disagree).
  const replay = typeof mobility === 'object' ? mobility.replay : undefined
  const writeTracks = o.get('write-tracks')
  if (writeTracks === 'true') throw new Error('--write-tracks needs a file name')
  if (writeTracks !== undefined) checkTracksWritable(writeTracks)
  return {
    seed: args.seed,
    peers: args.peers,
    width: replay?.width ?? world,
    height: replay?.height ?? world,
    aoi: numberOption(o, 'aoi', d.aoi),
    speed: numberOption(o, 'speed', d.speed),
    stepsPerSec: replay?.stepsPerSec ?? stepsPerSec,
    mobility,
    ...(writeTracks === undefined ? {} : { onTracks: (t) => writeTracksFile(writeTracks, t) }),
    joinSeconds: numberOption(o, 'join-seconds', Math.max(5, Math.min(30, args.peers / 100))),
    settleSeconds: numberOption(o, 'settle-seconds', 5),
    seconds: args.seconds,
    // Sampling the whole world costs O(peers): large worlds sample less often.
    sampleMs: numberOption(o, 'sample-ms', args.peers > 2000 ? 500 : 200),
    buffer: o.has('buffer') ? numberOption(o, 'buffer', 30) : undefined,
    von: o.has('max-aoi-neighbours') ? { maxAoiNeighbours: numberOption(o, 'max-aoi-neighbours', 40) } : undefined,
    // NAT classes only when asked for (--nat, --stun, --turn): without, every peer is public, as before.
    ...(['nat', 'stun', 'turn', 'turn-extra-ms', 'sdp-bytes'].some((k) => o.has(k)) ? { nat: natOptions(o) } : {}),
    ...(o.has('relay') ? { relaying: onOff(o.get('relay')!, 'relay') } : {}),
    ...(o.has('tickets') ? { tickets: onOff(o.get('tickets')!, 'tickets') } : {}),
    ...adversaries(o),
    trace: args.trace,
    progress: (f) => args.progress(f),
    eventClock: args.eventClock,
  }
}

/** --adversaries F --attack KIND[,KIND...]|all [--sybils K] (adversaries.ts); none without --adversaries. */
function adversaries(o: ReadonlyMap<string, string>): { adversaries?: AdversaryInit } {
  if (!o.has('adversaries')) {
    const stray = ['attack', 'sybils'].find((k) => o.has(k))
    if (stray !== undefined) throw new Error(`--${stray} goes with --adversaries F (the share of hostile peers)`)
    return {}
  }
  const fraction = numberOption(o, 'adversaries', 0)
  if (!(fraction > 0 && fraction < 1)) throw new Error(`--adversaries must be a share of the peers in (0, 1), got "${o.get('adversaries')}"`)
  const attack = o.get('attack')
  if (attack === undefined || attack === 'true') throw new Error('--adversaries needs --attack KIND[,KIND...] or --attack all')
  const sybils = numberOption(o, 'sybils', 8)
  if (!(Number.isInteger(sybils) && sybils >= 1)) throw new Error(`--sybils must be a whole number of at least 1, got "${o.get('sybils')}"`)
  return { adversaries: { fraction, attacks: parseAttacks(attack), sybils } }
}

const MODELS: readonly MobilityName[] = ['waypoint', 'hotspot', 'flash', 'keyboard']

/**
 * --mobility NAME (default: the scenario's model; `random` is waypoint, VAST's),
 * or --mobility replay --tracks FILE: the file is read and checked here, before
 * the run, against the flags that fix what it also says (--peers, --world, --steps-per-sec).
 */
function mobilityOf(args: ScenarioArgs, dflt: MobilityName): VonRunInit['mobility'] {
  const o = args.options
  const name = o.get('mobility') ?? dflt
  const file = o.get('tracks')
  if (name !== 'replay') {
    if (file !== undefined) throw new Error('--tracks FILE goes with --mobility replay')
    if (name === 'random') return 'waypoint'
    if (!(MODELS as readonly string[]).includes(name)) throw new Error(`--mobility must be one of ${MODELS.join(', ')}, random (waypoint) or replay, got "${name}"`)
    return name as MobilityName
  }
  if (file === undefined || file === 'true') throw new Error('--mobility replay needs --tracks FILE')
  const tracks = readTracksFile(file)
  const world = o.has('world') ? numberOption(o, 'world', 0) : undefined
  const stepsPerSec = o.has('steps-per-sec') ? numberOption(o, 'steps-per-sec', 0) : undefined
  checkTracksFit(tracks, { peers: args.peers, width: world, height: world, stepsPerSec }, file)
  return { replay: tracks }
}

function onOff(v: string, name: string): boolean {
  if (v === 'on' || v === 'true') return true
  if (v === 'off' || v === 'false') return false
  throw new Error(`--${name} must be on or off, got "${v}"`)
}

/** NAT classes at the published shares (docs/nat-model.md) unless --nat says otherwise. */
function withNat(args: ScenarioArgs, run: VonRunInit): VonRunInit {
  const nat = natOptions(args.options)
  return { ...run, nat: args.options.has('nat') ? nat : { ...nat, shares: DEFAULT_NAT_SHARES } }
}

/** World side that keeps VAST's density for `peers`. */
const sideAtVastDensity = (peers: number): number => Math.round(Math.sqrt(peers / VAST_DENSITY))

/** VAST's AOI and speed in a world at VAST's density. */
const atVastDensity = (args: ScenarioArgs, mobility: MobilityName): VonRunInit =>
  base(args, { world: sideAtVastDensity(args.peers), aoi: VAST.aoi, speed: VAST.speed, mobility })

/**
 * A VON scenario: `von` builds the run from the flags (so a split run can build
 * the same one in every worker), `notes` reads the merged metrics.
 */
function vonScenario(
  name: string,
  description: string,
  defaults: Scenario['defaults'],
  von: (args: ScenarioArgs) => VonRunInit,
  notes?: (m: Record<string, MetricValue>, args: ScenarioArgs) => string[],
): Scenario {
  return {
    name,
    description,
    defaults,
    von,
    notes,
    run: (args) => {
      const r = runVon(von(args))
      return notes === undefined ? r : { ...r, notes: notes(r.metrics, args) }
    },
  }
}

export const VON_SCENARIOS: readonly Scenario[] = [
  vonScenario(
    'vast',
    "VAST's workload: 1200 x 1200, AOI 100, speed 5/step, 10 steps/s, random waypoint",
    { peers: VAST.peers, seconds: 120 },
    (args) => base(args, { world: VAST.width, aoi: VAST.aoi, speed: VAST.speed, mobility: 'waypoint' }),
  ),
  vonScenario(
    'scale',
    "VAST's density at any size: the world grows with the peer count",
    { peers: 1000, seconds: 120 },
    (args) => atVastDensity(args, 'waypoint'),
  ),
  vonScenario(
    'dense',
    'about 20 peers inside each AOI on average (hotspot clusters off: uniform waypoint)',
    { peers: 1000, seconds: 60 },
    (args) => {
      const side = Math.round(Math.sqrt((args.peers * Math.PI * VAST.aoi ** 2) / 20))
      return base(args, { world: side, aoi: VAST.aoi, speed: VAST.speed, mobility: 'waypoint' })
    },
  ),
  vonScenario(
    'hotspot',
    'Gaussian clusters with a small chance to switch cluster, VAST density',
    { peers: 1000, seconds: 60 },
    (args) => atVastDensity(args, 'hotspot'),
  ),
  vonScenario(
    'flash-crowd',
    'every peer heads for one point after joining; crowding control shrinks the AOI',
    { peers: 300, seconds: 60 },
    (args) => atVastDensity(args, 'flash'),
    (m, args) => [
      `crowding control: ${m.peersWithShrunkAoi} of ${args.peers} peers shrank their AOI; mean AOI radius at the end ${Number(m.aoiMeanAtEnd).toFixed(1)} (from ${m.aoiRadius}); most links on one peer ${m.linksPerPeerMax} (cap 100)`,
    ],
  ),
  vonScenario(
    'mass-failure',
    "30 % of the peers fail at once 10 s into the measurement, VAST density",
    { peers: 1000, seconds: 30 },
    (args) => ({
      ...atVastDensity(args, 'waypoint'),
      failure: { atSeconds: numberOption(args.options, 'fail-at', 10), fraction: numberOption(args.options, 'fail-fraction', 0.3) },
    }),
  ),
  vonScenario(
    'nat',
    'VAST density, peers behind NATs (--nat shares, default the published ones), STUN, no TURN: links no hole punch opens go through peers (--relay off to see what is lost)',
    { peers: 1000, seconds: 60 },
    (args) => withNat(args, atVastDensity(args, 'waypoint')),
  ),
  vonScenario(
    'relay-failure',
    'the nat scenario, and 30 % of the relay peers (relaying a link or holding a reservation) fail at once 10 s into the measurement',
    { peers: 1000, seconds: 30 },
    (args) => ({
      ...withNat(args, atVastDensity(args, 'waypoint')),
      relayFailure: { atSeconds: numberOption(args.options, 'fail-at', 10), fraction: numberOption(args.options, 'fail-fraction', 0.3) },
    }),
  ),
]
