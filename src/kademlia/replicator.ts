import { toHex } from '../core/bytes.js'
import { compareDistance } from '../core/id.js'
import type { Kademlia } from './kademlia.js'
import { KadMsg } from './messages.js'
import type { StoredRecord } from './record-store.js'
import type { DhtRecord } from './records.js'
import type { Contact } from './routing-table.js'

export interface ReplicatorInit {
  /** Holders push each record to the current k closest this often (skipped when another holder just did). @default 3600000 */
  replicateIntervalMs?: number
  /** The owner re-publishes a record this often, besides on every change. @default 14400000 */
  republishIntervalMs?: number
  /** Records re-replicated per maintenance period at most (spreads the load). @default 64 */
  maxReplicationsPerTick?: number
  /** A new close peer gets a record from the first this-many holders (by distance to the key) that see it. @default 3 */
  handoffFanout?: number
  /** Records we own and re-publish. @default 16 */
  maxOwned?: number
}

export interface ReplicatorStats {
  /** STOREs sent by periodic re-replication. */
  replicated: number
  /** STOREs sent to a newly met close peer. */
  handoffs: number
  republished: number
}

/**
 * Keeps records alive under churn: holders re-replicate to the current k closest
 * they know; a peer that meets a new close neighbour hands it the records it
 * should now hold (Kademlia section 2.5); owners re-publish.
 */
export class Replicator {
  readonly stats: ReplicatorStats = { replicated: 0, handoffs: 0, republished: 0 }
  private readonly init: Required<ReplicatorInit>
  private readonly owned = new Map<string, { record: DhtRecord; publishedAt: number }>()

  constructor(
    private readonly dht: Kademlia,
    init: ReplicatorInit,
  ) {
    this.init = {
      replicateIntervalMs: init.replicateIntervalMs ?? 3600_000,
      republishIntervalMs: init.republishIntervalMs ?? 4 * 3600_000,
      maxReplicationsPerTick: init.maxReplicationsPerTick ?? 64,
      handoffFanout: init.handoffFanout ?? 3,
      maxOwned: init.maxOwned ?? 16,
    }
  }

  /** We published `record`: re-publish it until told otherwise. */
  own(key: Uint8Array, record: DhtRecord, now: number): void {
    const keyHex = toHex(key)
    this.owned.delete(keyHex)
    if (this.owned.size >= this.init.maxOwned) this.owned.delete(this.owned.keys().next().value as string)
    this.owned.set(keyHex, { record, publishedAt: now })
  }

  tick(now: number): void {
    const dht = this.dht
    dht.store.sweep(now)
    let budget = this.init.maxReplicationsPerTick
    for (const e of dht.store.entries(now)) {
      if (budget <= 0) break
      if (now - Math.max(e.replicatedAt, e.receivedAt) < this.init.replicateIntervalMs) continue
      e.replicatedAt = now
      budget--
      for (const c of dht.table.closest(e.key, dht.k)) this.send(c.id, e, 'replicated')
    }
    for (const o of this.owned.values()) {
      if (now - o.publishedAt < this.init.republishIntervalMs) continue
      o.publishedAt = now
      this.stats.republished++
      dht.records.put(o.record, () => {}, { purpose: 'maintenance' })
    }
  }

  /** A new contact: if it is one of our closest, hand it the records it should now hold. */
  onContactAdded(contact: Contact): void {
    const dht = this.dht
    if (dht.store.size === 0 || !dht.table.isSibling(contact.id)) return
    const now = dht.env.clock.now()
    const self = dht.localBytes
    for (const e of dht.store.entries(now)) {
      let newRank = 0
      let selfRank = 0
      for (const c of dht.table.contacts()) {
        if (c === contact) continue
        if (compareDistance(e.key, c.bytes, contact.bytes) < 0) newRank++
        if (compareDistance(e.key, c.bytes, self) < 0) selfRank++
      }
      if (compareDistance(e.key, self, contact.bytes) < 0) newRank++
      if (newRank < dht.k && selfRank < this.init.handoffFanout) this.send(contact.id, e, 'handoffs')
    }
  }

  private send(peer: Contact['id'], e: StoredRecord, counter: 'replicated' | 'handoffs'): void {
    this.stats[counter]++
    this.dht.request(peer, { op: KadMsg.STORE, key: e.key, record: e.record }, { purpose: 'maintenance' }, () => {})
  }
}
