import type { PeerId } from '../core/id.js'

/** What a service hears about VON neighbours. Moves are not relayed: read `von.table`. */
export interface NeighbourListener {
  onEnter?(id: PeerId, x: number, y: number): void
  onLeave?(id: PeerId): void
}

/**
 * VON neighbour events for the services of one session. The overlay has one
 * listener (the peer's); this fans its enter and leave events out to services.
 */
export class NeighbourEvents {
  private listeners: NeighbourListener[] = []

  /** Starts listening; the returned function stops. */
  subscribe(listener: NeighbourListener): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  /** @internal fed by the session */
  enter(id: PeerId, x: number, y: number): void {
    for (const l of this.listeners) l.onEnter?.(id, x, y)
  }

  /** @internal fed by the session */
  leave(id: PeerId): void {
    for (const l of this.listeners) l.onLeave?.(id)
  }
}
