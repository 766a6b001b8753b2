import wrtc from '@roamhq/wrtc'
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { WebSocket } from 'ws'
import { SignalingServer } from '../../signaling/server.js'
import { LOOPBACK_ADDRESSES } from '../../signaling/client-address.js'
import { SILENT_LOG } from '../../src/core/env.js'
import { startNetworkPeer, type NetworkPeer } from '../../src/platform/network-peer.js'
import { createNodeEnv } from '../../src/platform/node/node-env.js'
import { PeerWorld } from '../../src/sim/workloads/peer-world.js'
import type { CalibrationDriver, CalibrationScenario } from './calibration.js'

/**
 * The simulated network set to match loopback: every peer at one point of the
 * latency plane with a 0.04 ms access link (one-way 0.08 ms: half the raw
 * data-channel RTT p50 that bench:layers measured, 0.158 ms), no jitter or loss,
 * 1 GB/s links, and the signaling node on the same host.
 */
export const LOOPBACK = {
  accessMs: 0.04,
  bytesPerSec: 1e9,
  signalingAccessMs: 0.05,
} as const

export function simDriver(sc: CalibrationScenario): CalibrationDriver {
  const world = new PeerWorld({ seed: sc.seed, network: { jitterMs: 0, lossRate: 0 }, signaling: { accessMs: LOOPBACK.signalingAccessMs } })
  const sim = world.sim
  return {
    name: 'simulator',
    now: () => sim.now,
    add: (_i, x, y, listener) => world.add(x, y, {
      init: { von: { aoiRadius: sc.aoi, buffer: sc.buffer }, services: [] },
      net: { x: 0, y: 0, accessMs: LOOPBACK.accessMs, upBytesPerSec: LOOPBACK.bytesPerSec, downBytesPerSec: LOOPBACK.bytesPerSec },
      listener,
    }).peer,
    at: (ms, fn) => void sim.at(ms, fn),
    runUntil: async (ms) => sim.runUntil(ms),
    close: async () => {},
  }
}

/**
 * Node peers on real WebRTC (@roamhq/wrtc) through a signaling node on
 * 127.0.0.1, in this process: the same Peer as the browser runs, without services
 * (the simulator's side runs none either).
 */
export async function realDriver(sc: CalibrationScenario): Promise<CalibrationDriver> {
  const server = new SignalingServer({ crypto: createNodeEnv({ logLevel: 'silent' }).crypto, log: SILENT_LOG }, { port: 0, host: '127.0.0.1', exemptAddresses: LOOPBACK_ADDRESSES })
  const port = await server.start()
  // How late this process runs its callbacks (1 ms timer lateness): a received move waits as long.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const load = loadavg()[0]!
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const nets: NetworkPeer[] = []
  const timers = new Set<ReturnType<typeof setTimeout>>()
  return {
    name: 'real WebRTC',
    now: () => performance.now() - t0,
    add: async (_i, x, y, listener) => {
      const env = createNodeEnv({ logLevel: 'silent' })
      const net = await startNetworkPeer(
        { env, keyPair: env.crypto.keyPairFromSeed(env.rng.bytes(32)), WebSocket, wrtc, listener },
        { url: `ws://127.0.0.1:${port}`, world: 'calibrate', signaling: { backoffMinMs: 100, backoffMaxMs: 1000 }, peer: { von: { aoiRadius: sc.aoi, buffer: sc.buffer }, services: [] } },
      )
      nets.push(net)
      net.peer.join(x, y)
      return net.peer
    },
    at: (ms, fn) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        fn()
      }, Math.max(0, ms - (performance.now() - t0)))
      timers.add(timer)
    },
    runUntil: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - (performance.now() - t0)))),
    host: () => ({
      loadAverage: [load, loadavg()[0]!],
      processCpuPercent: (() => {
        const u = process.cpuUsage(cpu0)
        return ((u.user + u.system) / 1000 / (performance.now() - t0)) * 100
      })(),
      eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p95: loopDelay.percentile(95) / 1e6, p99: loopDelay.percentile(99) / 1e6 },
    }),
    close: async () => {
      loopDelay.disable()
      for (const t of timers) clearTimeout(t)
      await Promise.all(nets.map((n) => n.close()))
      await server.stop()
    },
  }
}
