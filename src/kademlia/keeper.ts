import type { PeerId } from '../core/id.js'
import type { Kademlia } from './kademlia.js'
import { KadMsg, Status } from './messages.js'

export interface LinkKeeperInit {
  /**
   * Links we keep only because another peer's routing table needs them, at
   * most. Link GC closes a link unless one side insists, and a far-bucket
   * contact is rarely needed by both tables, so each peer tells its contacts
   * which links it needs (KEEP) and honours up to this many such requests.
   * Links pinned by the DHT stay under maxInsisted + maxHonored. @default 24
   */
  maxHonored?: number
  /**
   * Batches changes of our insisted set before telling peers, so a contact that
   * enters and leaves it (common while neighbours join) costs nothing. Our own
   * insistence keeps the link alive meanwhile (our keepalives tell the remote
   * we want it); KEEP only makes the remote insist too. @default 15000
   */
  keepSyncDelayMs?: number
}

export interface LinkKeeperStats {
  keepsSent: number
  honoured: number
  refused: number
}

/**
 * Keeps the links both routing tables need. A link survives link GC if either
 * side insists on it; this makes the remote side's need visible and bounded.
 */
export class LinkKeeper {
  readonly stats: LinkKeeperStats = { keepsSent: 0, honoured: 0, refused: 0 }
  private readonly maxHonored: number
  private readonly delayMs: number
  /** Peers we asked to keep their link to us. */
  private readonly announced = new Set<PeerId>()
  /** Peers whose KEEP we honour. */
  private readonly keptBy = new Set<PeerId>()
  /** Peers that refused our KEEP (they are full). */
  private readonly refusedBy = new Set<PeerId>()
  private timer: unknown = undefined

  constructor(
    private readonly dht: Kademlia,
    init: LinkKeeperInit,
  ) {
    this.maxHonored = init.maxHonored ?? 24
    this.delayMs = init.keepSyncDelayMs ?? 15_000
    dht.table.setRank((id) => (this.refusedBy.has(id) ? 1 : 0))
  }

  honours(peer: PeerId): boolean {
    return this.keptBy.has(peer)
  }

  get honouredCount(): number {
    return this.keptBy.size
  }

  /** A KEEP request: honour it if our own table needs the link anyway, or while under the bound. */
  onKeep(from: PeerId, keep: boolean): number {
    const table = this.dht.table
    if (!keep) {
      if (this.keptBy.delete(from)) table.invalidate()
      return Status.OK
    }
    if (this.keptBy.has(from)) return Status.OK
    if (!table.insistedBefore(from) && this.extra() >= this.maxHonored) {
      this.stats.refused++
      return Status.FULL
    }
    this.stats.honoured++
    this.keptBy.add(from)
    table.invalidate()
    return Status.OK
  }

  linkClosed(peer: PeerId): void {
    this.announced.delete(peer)
    this.refusedBy.delete(peer)
    if (this.keptBy.delete(peer)) this.dht.table.invalidate()
  }

  /** The table changed: tell peers about our insisted set soon. */
  schedule(): void {
    if (this.timer !== undefined || this.dht.isStopped) return
    this.timer = this.dht.env.timers.setTimeout(() => {
      this.timer = undefined
      this.sync()
    }, this.delayMs)
  }

  private extra(): number {
    const table = this.dht.table
    let n = 0
    for (const p of this.keptBy) if (!table.insistedBefore(p)) n++
    return n
  }

  private sync(): void {
    const table = this.dht.table
    let want = table.insistedSet()
    // Our own needs changed: honour at most maxHonored links we do not need
    // ourselves, dropping the newest; the remote learns when link GC closes it.
    const extras = [...this.keptBy].filter((p) => !want.has(p))
    if (extras.length > this.maxHonored) {
      for (const p of extras.slice(this.maxHonored)) this.keptBy.delete(p)
      table.invalidate()
      want = table.insistedSet()
    }
    for (const id of want) {
      if (this.announced.has(id)) continue
      this.announced.add(id)
      this.send(id, true)
    }
    for (const id of [...this.announced]) {
      if (want.has(id)) continue
      this.announced.delete(id)
      this.send(id, false)
    }
  }

  private send(peer: PeerId, keep: boolean): void {
    this.stats.keepsSent++
    this.dht.request(peer, { op: KadMsg.KEEP, keep }, { purpose: 'maintenance' }, (o) => {
      if (!keep || !o.ok) return
      const refused = o.res.status === Status.FULL
      if (refused === this.refusedBy.has(peer)) return
      if (refused) this.refusedBy.add(peer)
      else this.refusedBy.delete(peer)
      this.dht.table.invalidate()
    })
  }
}
