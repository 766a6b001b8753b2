import type { Intents } from './intents.js'
import { positionAt } from './interpolation.js'
import type { WorldStores } from './stores.js'

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
  frameStats(): FrameStats | undefined
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
  queues: number[]
  neighbours: { id: string; name: string | undefined; x: number; y: number; avatarHash: string | undefined; avatarLoaded: boolean; linkOpen: boolean }[]
  chat: { from: string; name: string; text: string; self: boolean }[]
}

export function createTestHook(stores: WorldStores, intents: Intents, now: () => number, frames: () => FrameStats | undefined): WorldTestHook {
  return {
    ready: true,
    snapshot() {
      const s = stores.self.getState()
      const c = stores.connection.getState()
      const t = now()
      return {
        id: s.id, name: s.name, x: s.x, y: s.y, aoi: s.aoi, avatarHash: s.avatarHash,
        peerState: c.peerState, signaling: c.signaling, problem: c.problem?.code, links: c.links, queues: c.queues.map((q) => q.count),
        neighbours: [...stores.neighbours.getState().players.values()].map((p) => {
          const at = positionAt(p.track, t, 0) ?? { x: NaN, y: NaN }
          return { id: p.id, name: p.name, x: at.x, y: at.y, avatarHash: p.avatarHash, avatarLoaded: p.avatarUrl !== undefined, linkOpen: p.linkOpen }
        }),
        chat: stores.chat.getState().lines.map((l) => ({ from: l.from, name: l.name, text: l.text, self: l.self })),
      }
    },
    move: (x, y) => intents.moveTo(x, y),
    chat: (text) => intents.chat(text),
    setName: (name) => intents.setName(name),
    setAvatar: (bytes) => intents.setAvatar(new Blob([new Uint8Array(bytes)])),
    toggleInspector: (open) => intents.toggleInspector(open),
    frameStats: frames,
  }
}
