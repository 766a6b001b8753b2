import { idToBytes, type PeerId } from '../core/id.js'
import { randomIdInBucket } from './distance.js'
import type { Kademlia } from './kademlia.js'
import type { LookupSeed } from './lookup.js'

export interface MembershipInit {
  /** Period of the maintenance timer (refresh, replication, expiry). @default 30000 */
  maintenanceIntervalMs?: number
  /**
   * Refresh a bucket no lookup targeted for this long. Contacts hold links whose
   * keepalives detect departures, and every peer that queries us is learned, so
   * buckets need refreshing mostly when they run thin. @default 1800000
   */
  refreshIntervalMs?: number
  /** A bucket with fewer than 2 contacts is refreshed after this long instead. @default 60000 */
  thinRefreshMs?: number
  /** Bucket refreshes run at once while joining. @default 2 */
  joinConcurrency?: number
  /**
   * Size of the closest set a bucket-refresh lookup converges on. A refresh
   * only needs a few live contacts in that bucket, and every peer it queries
   * costs a link setup. @default 8
   */
  refreshK?: number
  /**
   * After the self-lookup, a join refreshes the buckets farther than its nearest
   * neighbour that hold fewer contacts than this. The rest fill as other peers'
   * lookups query us (every querier is learned); buckets still thin (under 2)
   * a minute later are refreshed by maintenance. @default 1
   */
  joinRefreshBelow?: number
  /**
   * Look up our own id again this long after joining, to meet the neighbours that
   * joined while we did (neither lookup could have found the other). @default 30000
   */
  rejoinDelayMs?: number
  /** Look up our own id this often, keeping the sibling set (our k closest) complete. @default 300000 */
  selfRefreshMs?: number
}

export interface JoinResult {
  readonly ok: boolean
  readonly lookups: number
  readonly durationMs: number
  readonly tableSize: number
}

/** A bucket with fewer contacts than this is refreshed after thinRefreshMs. */
const THIN_BUCKET = 2

/** Joining by self-lookup, and keeping the table fresh: bucket refresh and periodic self-lookups. */
export class Membership {
  private readonly o: Required<MembershipInit>
  private selfLookupAt = 0
  private timer: unknown = undefined

  constructor(
    private readonly dht: Kademlia,
    init: MembershipInit,
  ) {
    this.o = {
      maintenanceIntervalMs: init.maintenanceIntervalMs ?? 30_000,
      refreshIntervalMs: init.refreshIntervalMs ?? 1_800_000,
      thinRefreshMs: init.thinRefreshMs ?? 60_000,
      joinConcurrency: init.joinConcurrency ?? 2,
      refreshK: init.refreshK ?? 8,
      joinRefreshBelow: init.joinRefreshBelow ?? 1,
      rejoinDelayMs: init.rejoinDelayMs ?? 30_000,
      selfRefreshMs: init.selfRefreshMs ?? 300_000,
    }
    this.schedule()
  }

  /**
   * Joins through `bootstrap` (linked through the signaling node): looks up our
   * own id, then refreshes the thin buckets farther than our closest neighbour.
   */
  join(bootstrap: PeerId, cb: (r: JoinResult) => void): void {
    const dht = this.dht
    const table = dht.table
    const started = dht.env.clock.now()
    this.selfLookupAt = started
    let lookups = 1
    const finish = (ok: boolean): void => cb({ ok, lookups, durationMs: dht.env.clock.now() - started, tableSize: table.size })
    const seeds = [{ id: bootstrap, bytes: idToBytes(bootstrap) }, ...table.closest(dht.localBytes, dht.k)]
    const afterSelfLookup = (): void => {
      const nearest = table.closest(dht.localBytes, 1)[0]
      const upTo = nearest === undefined ? 0 : nearest.bucket
      const now = dht.env.clock.now()
      for (let b = 0; b < upTo; b++) table.markRefreshed(b, now)
      // The self-lookup's path already filled most buckets; refresh only the thin ones.
      const buckets: number[] = []
      for (let b = upTo - 1; b >= 0; b--) if (table.bucketSize(b) < this.o.joinRefreshBelow) buckets.push(b)
      let running = 0
      const next = (): void => {
        if (dht.isStopped) return finish(false)
        while (running < this.o.joinConcurrency && buckets.length > 0) {
          running++
          lookups++
          this.refresh(buckets.shift()!, () => {
            running--
            next()
          })
        }
        if (running > 0 || buckets.length > 0) return
        dht.env.timers.setTimeout(() => this.selfLookup(), this.o.rejoinDelayMs)
        finish(true)
      }
      next()
    }
    dht.lookup(dht.localBytes, (r) => (r.error !== undefined || r.closest.length === 0 ? finish(false) : afterSelfLookup()), {
      purpose: 'maintenance',
      seeds,
    })
  }

  stop(): void {
    if (this.timer !== undefined) this.dht.env.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private refresh(bucket: number, done: () => void = () => {}): void {
    const dht = this.dht
    dht.lookup(randomIdInBucket(dht.localBytes, bucket, dht.env.rng), done, { purpose: 'maintenance', k: this.o.refreshK })
  }

  /**
   * Looks up our own id starting from far contacts, as a join through a random
   * peer would. Seeded with our own neighbours it could only ask what they
   * already know; from outside it also meets neighbours that joined alongside
   * us through other peers and that nobody has introduced to us.
   */
  private selfLookup(): void {
    const dht = this.dht
    this.selfLookupAt = dht.env.clock.now()
    const far: LookupSeed[] = []
    for (const c of dht.table.contacts()) {
      if (far.length >= 3) break
      far.push(c)
    }
    dht.lookup(dht.localBytes, () => {}, { purpose: 'maintenance', ...(far.length > 0 ? { seeds: far } : {}) })
  }

  private schedule(): void {
    const dht = this.dht
    if (dht.isStopped) return
    const period = this.o.maintenanceIntervalMs
    this.timer = dht.env.timers.setTimeout(() => {
      this.timer = undefined
      this.maintain()
      this.schedule()
    }, period / 2 + dht.env.rng.int(period))
  }

  /** Refreshes our neighbourhood or one stale bucket per period, and runs replication and expiry. */
  private maintain(): void {
    const dht = this.dht
    const table = dht.table
    const now = dht.env.clock.now()
    dht.replicator.tick(now)
    const deepest = table.deepestBucket()
    if (deepest < 0) return
    if (now - this.selfLookupAt >= this.o.selfRefreshMs) return this.selfLookup()
    for (let b = 0; b <= deepest; b++) {
      const thin = table.bucketSize(b) < THIN_BUCKET
      if (now - table.refreshedAtOf(b) < (thin ? this.o.thinRefreshMs : this.o.refreshIntervalMs)) continue
      return this.refresh(b)
    }
  }
}
