import type { PeerId } from '../src/core/id.js'
import type { Client } from './client-state.js'
import { pickHosts } from './host-cache.js'
import type { SignalingServerOptions } from './options.js'
import { Room } from './room.js'

/** The node's worlds: who is in which, who is an anchor, and the host cache a joiner gets. */
export class Worlds {
  private readonly rooms = new Map<string, Room<Client>>()
  private readonly anchorIds = new Set<PeerId>()

  constructor(
    private readonly init: Pick<SignalingServerOptions, 'hostCacheSize' | 'hostCacheRecentShare' | 'hostCacheMaxPerAddress'>,
    private readonly random: () => number,
  ) {}

  /** Worlds with at least one member. */
  get size(): number {
    return this.rooms.size
  }

  /** Marks `id` as an anchor, now (if `c`, its socket, is in a world) and whenever it joins. */
  markAnchor(id: PeerId, c: Client | undefined): void {
    this.anchorIds.add(id)
    if (c?.world !== undefined) this.rooms.get(c.world)?.markAnchor(c)
  }

  /** Moves authenticated `c` into `world`; the world's size when it moved, undefined when it was there already. */
  enter(c: Client, id: PeerId, world: string): number | undefined {
    if (c.world === world) return undefined
    this.leave(c)
    c.world = world
    let room = this.rooms.get(world)
    if (room === undefined) this.rooms.set(world, (room = new Room<Client>()))
    room.add(c, this.anchorIds.has(id))
    return room.size
  }

  leave(c: Client): void {
    if (c.world === undefined) return
    const room = this.rooms.get(c.world)
    room?.delete(c)
    if (room?.size === 0) this.rooms.delete(c.world)
    c.world = undefined
  }

  /** The host cache for `c` from its world (`host-cache.ts`). Hosts of an exempt address are not bounded per address. */
  hosts(c: Client): PeerId[] {
    const room = c.world === undefined ? undefined : this.rooms.get(c.world)
    if (room === undefined) return []
    return pickHosts(room, {
      size: this.init.hostCacheSize, except: c, recentShare: this.init.hostCacheRecentShare,
      maxPerAddress: this.init.hostCacheMaxPerAddress, addressOf: (h) => (h.exempt ? h.id! : h.address), random: this.random,
    }).map((h) => h.id!)
  }
}
