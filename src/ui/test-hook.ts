import type { PeerId } from '../core/id.js'
import type { RttStats } from '../link/rtt.js'
import type { LinkPath } from '../link/transport.js'
import { ASSETS_SERVICE, type AssetService } from '../peer/assets-service.js'
import type { Peer } from '../peer/peer.js'
import type { Intents } from './intents.js'
import { positionAt } from './interpolation.js'
import type { JoinPhase, JoinTimeline } from './join-timeline.js'
import type { MoveTrace, MoveTraceData } from './move-trace.js'
import type { FailedLink, PathCounts, WorldStores } from './stores.js'

/** Frame timing the game reports (when it renders). */
export interface FrameStats {
  frames: number
  /** Intervals between frames, ms (the last few hundred). */
  intervalsMs: number[]
  /** CPU time of Phaser's step (update + render), ms. */
  workMs: number[]
}

/**
 * `window.__world`: a small, stable surface for Playwright bots and end-to-end
 * tests. It reads the stores and dispatches intents, like the game does.
 */
export interface WorldTestHook {
  readonly ready: boolean
  snapshot(): WorldSnapshot
  move(x: number, y: number): void
  chat(text: string): boolean
  setName(name: string): void
  /** Sets the avatar from image bytes (as a file picker would). */
  setAvatar(bytes: Uint8Array | number[]): Promise<void>
  toggleInspector(open?: boolean): void
  /** When each step of entering the world happened, ms since navigation (src/ui/join-timeline.ts). */
  joinTimeline(): Partial<Record<JoinPhase, number>>
  /** What the banner's button does: retry now, or take the player back ("Play here"). */
  retryNow(): void
  frameStats(): FrameStats | undefined
  /** Starts (afresh) or stops recording moves sent and received, on the page's wall clock (performance.timeOrigin + now). */
  traceMoves(on: boolean): void
  /** The moves recorded since the last call. */
  takeMoveTrace(): MoveTraceData
  /** Publishes bytes as an own asset (an avatar would be an image); its id, or undefined without the asset service. */
  publishAsset(bytes: Uint8Array | number[], mime?: string): string | undefined
  /** Fetches asset `id`, asking `from` first; its size and how long it took. Rejects as the asset service does. */
  fetchAsset(id: string, from?: string): Promise<{ bytes: number; ms: number }>
  /** Forgets a fetched (not own) asset, so the next fetch transfers it again; false when not held or own. */
  forgetAsset(id: string): boolean
  /** Bytes on the current session's links: all of them, or the link to `peer` (zero without one). */
  linkTraffic(peer?: string): { bytesSent: number; bytesReceived: number }
  /** The link to `peer` as the scheduler sees it: RTT estimate, pacing, longest waits per class [HIGH, MEDIUM, LOW]. */
  linkInfo(peer: string): LinkInfo | undefined
}

export interface LinkInfo {
  rtt: RttStats | undefined
  /** Measured drain rate, bytes/s (undefined until the link was backlogged once). */
  rateBytesPerSec: number | undefined
  bufferThreshold: number
  fragmentBytes: number
  /** Longest time a message of each class waited in our scheduler since the link opened, ms. */
  maxWaitMs: readonly number[]
  /** The network path ICE selected: kind, candidate types at each end, protocol, ICE's RTT. */
  path: LinkPath | undefined
  /** Protocols (ids) that keep the link open now, and whether the relay layer does (a home relay, a reservation, a circuit). */
  insisting: number[]
  relayHolds: boolean
}

/** What the hook reaches beyond the stores (benchmarks): the move trace and the running peer. */
export interface TestHookExtras {
  trace?: MoveTrace
  timeline?: JoinTimeline
  peer?: () => Peer | undefined
}

export interface WorldSnapshot {
  id: string
  name: string
  x: number
  y: number
  aoi: number
  avatarHash: string | undefined
  peerState: string
  signaling: string
  problem: string | undefined
  links: { open: number; connecting: number }
  /** Links opened through introductions by other peers (not the signaling node), this session. */
  introduced: number
  queues: number[]
  /** One-way move latency to VON neighbours (half the link RTT), ms; null before any sample. */
  moveLatency: { p50Ms: number; p95Ms: number } | null
  /** Open links by network path: host, srflx, prflx, relay (TURN), unknown (not read yet). */
  paths: PathCounts
  /** Home relays, circuits relayed for others (undefined: not volunteering), frames that failed end-to-end authentication. */
  relay: { homes: number; serving: number | undefined; tampered: number }
  /** ICE servers in use, without credentials, and where they came from. */
  ice: { summary: string; source: string }
  /** The last failed connection attempts: peer, cause (ice-failed, no-candidates, turn-refused, no-answer ...), the facts. */
  failedLinks: readonly FailedLink[]
  neighbours: {
    id: string; name: string | undefined; x: number; y: number; avatarHash: string | undefined; avatarLoaded: boolean; linkOpen: boolean
    /** The path of the link to this neighbour, once known. */
    path: string | undefined
  }[]
  /** The chat log; `system` lines are the page's notes (not sent, heard by nobody). */
  chat: { from: string; name: string; text: string; self: boolean; system: boolean }[]
}

export function createTestHook(stores: WorldStores, intents: Intents, now: () => number, frames: () => FrameStats | undefined, extras: TestHookExtras = {}): WorldTestHook {
  const assets = (): AssetService | undefined => extras.peer?.()?.service<AssetService>(ASSETS_SERVICE)
  return {
    ready: true,
    snapshot() {
      const s = stores.self.getState()
      const c = stores.connection.getState()
      const t = now()
      return {
        id: s.id, name: s.name, x: s.x, y: s.y, aoi: s.aoi, avatarHash: s.avatarHash,
        peerState: c.peerState, signaling: c.signaling, problem: c.problem?.code, links: c.links, introduced: c.introduced, queues: c.queues.map((q) => q.count),
        moveLatency: c.moveLatencyMs === undefined ? null : { p50Ms: c.moveLatencyMs, p95Ms: c.moveLatencyP95Ms ?? c.moveLatencyMs },
        paths: c.paths, relay: c.relay, ice: c.ice, failedLinks: c.failedLinks,
        neighbours: [...stores.neighbours.getState().players.values()].map((p) => {
          const at = positionAt(p.track, t) ?? { x: NaN, y: NaN }
          return { id: p.id, name: p.name, x: at.x, y: at.y, avatarHash: p.avatarHash, avatarLoaded: p.avatarUrl !== undefined, linkOpen: p.linkOpen, path: p.path }
        }),
        chat: stores.chat.getState().lines.map((l) => ({ from: l.from, name: l.name, text: l.text, self: l.self, system: l.system === true })),
      }
    },
    move: (x, y) => intents.moveTo(x, y),
    chat: (text) => intents.chat(text),
    setName: (name) => intents.setName(name),
    setAvatar: (bytes) => intents.setAvatar(new Blob([new Uint8Array(bytes)])),
    toggleInspector: (open) => intents.toggleInspector(open),
    retryNow: () => intents.retryNow(),
    joinTimeline: () => extras.timeline?.snapshot() ?? {},
    frameStats: frames,
    traceMoves: (on) => extras.trace?.record(on),
    takeMoveTrace: () => extras.trace?.take() ?? { sent: [], received: [], dropped: 0 },
    publishAsset: (bytes, mime = 'application/octet-stream') => assets()?.publish(new Uint8Array(bytes), mime),
    async fetchAsset(id, from) {
      const svc = assets()
      if (svc === undefined) throw new Error('no asset service')
      const t0 = now()
      const bytes = await svc.fetch(id, from === undefined ? {} : { hint: [from as PeerId] })
      return { bytes: bytes.length, ms: now() - t0 }
    },
    forgetAsset(id) {
      const store = assets()?.store
      if (store?.get(id)?.own !== false) return false
      store.remove(id)
      return true
    },
    linkTraffic(peer) {
      const links = extras.peer?.()?.links
      const out = { bytesSent: 0, bytesReceived: 0 }
      for (const p of peer === undefined ? (links?.openPeers() ?? []) : [peer as PeerId]) {
        const l = links?.link(p)
        out.bytesSent += l?.bytesSent ?? 0
        out.bytesReceived += l?.bytesReceived ?? 0
      }
      return out
    },
    linkInfo(peer) {
      const links = extras.peer?.()?.links
      const l = links?.link(peer as PeerId)
      if (links === undefined || l === undefined) return undefined
      return {
        rtt: links.rtt(peer as PeerId), rateBytesPerSec: l.rate.bytesPerSec, bufferThreshold: l.bufferThreshold,
        fragmentBytes: l.fragmentBytes, maxWaitMs: [...l.scheduler.stats.maxWaitMs], path: l.conn?.path,
        insisting: links.insisting(peer as PeerId), relayHolds: links.relays?.insists(peer as PeerId) === true,
      }
    },
  }
}
