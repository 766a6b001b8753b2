import { fromHex } from '../../core/bytes.js'
import { decodeValue, encodeValue, isBytes } from '../../core/codec.js'
import type { Env } from '../../core/env.js'
import { MAX_ASSET_BYTES, assemble, chunkCount, chunkOf, openManifest, type Manifest } from './manifest.js'

/** One asset held here, whole. */
export interface HeldAsset {
  readonly idHex: string
  readonly manifest: Manifest
  readonly manifestBytes: Uint8Array
  readonly bytes: Uint8Array
  /** Published by this player: never evicted. */
  readonly own: boolean
}

export interface AssetStoreInit {
  /** Bytes of assets held (in memory and in the store); fetched ones are evicted least recently used first. @default 16 MiB */
  maxBytes?: number
  /** Key prefix in `Env.store`. @default "asset/" */
  prefix?: string
}

/**
 * The assets this peer holds: in memory (served from there, synchronously)
 * and persisted in `Env.store`, one key per asset: msgpack [own, manifest, bytes].
 * Bounded by bytes; own assets stay, fetched ones go least recently used first.
 */
export class AssetStore {
  private readonly held = new Map<string, HeldAsset>()
  private totalBytes = 0
  private readonly maxBytes: number
  private readonly prefix: string
  private writes: Promise<void> = Promise.resolve()

  constructor(
    private readonly env: Pick<Env, 'store' | 'log' | 'crypto'>,
    init: AssetStoreInit = {},
  ) {
    this.maxBytes = init.maxBytes ?? 16 * 1024 * 1024
    this.prefix = init.prefix ?? 'asset/'
  }

  get bytes(): number {
    return this.totalBytes
  }

  get size(): number {
    return this.held.size
  }

  has(idHex: string): boolean {
    return this.held.has(idHex)
  }

  /** The asset, marked as recently used. */
  get(idHex: string): HeldAsset | undefined {
    const a = this.held.get(idHex)
    if (a !== undefined) {
      this.held.delete(idHex)
      this.held.set(idHex, a)
    }
    return a
  }

  /** Chunk `index` of a held asset, without touching recency (serving others does not keep an asset). */
  chunk(idHex: string, index: number): Uint8Array | undefined {
    const a = this.held.get(idHex)
    return a === undefined || index >= chunkCount(a.manifest.size) ? undefined : chunkOf(a.bytes, index)
  }

  manifestBytes(idHex: string): Uint8Array | undefined {
    return this.held.get(idHex)?.manifestBytes
  }

  /** Held ids, own first, then most recently used first. */
  ids(): string[] {
    const all = [...this.held.values()].reverse()
    return [...all.filter((a) => a.own), ...all.filter((a) => !a.own)].map((a) => a.idHex)
  }

  /** Adds a verified asset, evicting fetched ones to make room; false when it cannot fit. */
  put(asset: HeldAsset, persist = true): boolean {
    const old = this.held.get(asset.idHex)
    if (old !== undefined) {
      if (asset.own && !old.own) {
        this.held.set(asset.idHex, { ...old, own: true })
        if (persist) this.persist(this.held.get(asset.idHex)!)
      }
      this.get(asset.idHex)
      return true
    }
    const size = asset.bytes.length + asset.manifestBytes.length
    for (const victim of [...this.held.values()]) {
      if (this.totalBytes + size <= this.maxBytes) break
      if (!victim.own) this.remove(victim.idHex)
    }
    if (this.totalBytes + size > this.maxBytes) return false
    this.held.set(asset.idHex, asset)
    this.totalBytes += size
    if (persist) this.persist(asset)
    return true
  }

  remove(idHex: string): void {
    const a = this.held.get(idHex)
    if (a === undefined) return
    this.held.delete(idHex)
    this.totalBytes -= a.bytes.length + a.manifestBytes.length
    this.write(() => this.env.store.delete(this.prefix + idHex))
  }

  /** Reads the assets persisted by earlier sessions, checking each against its id. */
  async load(): Promise<number> {
    let loaded = 0
    for (const key of await this.env.store.keys(this.prefix)) {
      const idHex = key.slice(this.prefix.length)
      const id = fromHex(idHex)
      const raw = await this.env.store.get(key).catch(() => undefined)
      const v = raw === undefined ? undefined : decodeValue(raw)
      if (id === null || !Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'boolean' || !isBytes(v[1]) || !isBytes(v[2], MAX_ASSET_BYTES)) continue
      const manifest = openManifest(this.env.crypto, id, v[1])
      if (manifest === null || assemble(this.env.crypto, manifest, [v[2]]) === null) continue
      if (this.put({ idHex, manifest, manifestBytes: v[1], bytes: v[2], own: v[0] }, false)) loaded++
    }
    return loaded
  }

  /** Resolves when every write so far has finished (failures are logged). */
  flushed(): Promise<void> {
    return this.writes
  }

  private persist(a: HeldAsset): void {
    const value = encodeValue([a.own, a.manifestBytes, a.bytes])
    this.write(() => this.env.store.set(this.prefix + a.idHex, value))
  }

  private write(op: () => Promise<void>): void {
    this.writes = this.writes.then(op).catch((err: unknown) => this.env.log.warn('assets: store write failed', { err: String(err) }))
  }
}
