import type { PeerId } from '../../core/id.js'
import { concatBytes, equalBytes } from '../../core/bytes.js'
import type { Crypto, Sha256Hasher } from '../../core/env.js'
import { AssetErr, AssetMsg, type AssetReply } from './asset-messages.js'
import { AssetError } from './errors.js'
import { CHUNK_BYTES, chunkCount, openManifest, type Manifest } from './manifest.js'

/** How a fetch talks to holders: the service pairs replies with requests and times them out. */
export interface FetchIo {
  readonly crypto: Crypto
  /** Sends a request (connecting through `via` if there is no link); `cb` gets the reply, or null on timeout, link loss or send failure. */
  request(peer: PeerId, via: PeerId | undefined, type: number, body: unknown[], cb: (r: AssetReply | null) => void): void
  /** Budget for asking `bytes` of chunk data now (see FetchPacer); when false, `wake` is called once it has been granted later. */
  admit(bytes: number, wake: () => void): boolean
}

export interface FetchLimits {
  /** Requests in flight to one holder. */
  perHolder: number
  /** Requests in flight for one asset. */
  total: number
  /** Failed requests after which a holder is dropped. */
  maxFailures: number
}

export interface FetchStats {
  /** Chunks received and verified, per holder. */
  readonly chunksFrom: Map<PeerId, number>
  corruptChunks: number
  failedRequests: number
}

interface Holder {
  readonly via: PeerId | undefined
  inFlight: number
  failures: number
  askedManifest: boolean
  banned: boolean
}

export interface FetchOutcome {
  readonly manifest: Manifest
  readonly manifestBytes: Uint8Array
  readonly bytes: Uint8Array
}

/**
 * One asset being fetched: the manifest from whichever holder answers first
 * (self-certifying, so any holder will do), then chunks from several holders
 * at once, each checked against the manifest; a holder that sends a bad chunk
 * is dropped and the chunk asked of another.
 */
export class AssetFetch {
  readonly stats: FetchStats = { chunksFrom: new Map(), corruptChunks: 0, failedRequests: 0 }
  private readonly holders = new Map<PeerId, Holder>()
  private manifest: Manifest | null = null
  private manifestBytes: Uint8Array | null = null
  private chunks: (Uint8Array | undefined)[] = []
  private wanted: number[] = []
  /** The whole asset's hash, fed with the chunks verified so far in order: no long hash at the end. */
  private whole: Sha256Hasher | null = null
  private hashedChunks = 0
  private inFlight = 0
  /** Waiting for the pacer's budget (it will call step). */
  private paused = false
  /** Budget granted while paused, not yet spent on a request. */
  private credit = 0
  private lookupDone = false
  private done = false

  constructor(
    private readonly io: FetchIo,
    private readonly id: Uint8Array,
    private readonly limits: FetchLimits,
    private readonly finish: (r: FetchOutcome | AssetError) => void,
  ) {}

  /** A peer that should hold the asset (a provider, or a hint). */
  addHolder(peer: PeerId, via?: PeerId): void {
    if (this.done || this.holders.has(peer)) return
    this.holders.set(peer, { via, inFlight: 0, failures: 0, askedManifest: false, banned: false })
    this.step()
  }

  /** No more holders will be added (the provider lookup finished). */
  holdersComplete(): void {
    this.lookupDone = true
    this.step()
  }

  fail(err: AssetError): void {
    if (this.done) return
    this.done = true
    this.finish(err)
  }

  private usable(h: Holder): boolean {
    return !h.banned && h.failures < this.limits.maxFailures
  }

  private step(): void {
    if (this.done) return
    if (this.manifest === null) this.askManifest()
    else this.askChunks()
    // Nothing asked and nothing to wait for (a pause for budget ends in another step): no holder can serve it.
    if (!this.done && this.inFlight === 0 && !this.paused && this.lookupDone) this.fail(new AssetError('NOT_FOUND', 'no holder could serve the asset'))
  }

  private askManifest(): void {
    // Two holders at once: one slow or lying holder costs no extra round.
    for (const [peer, h] of this.holders) {
      if (this.inFlight >= 2) return
      if (h.askedManifest || !this.usable(h)) continue
      h.askedManifest = true
      this.send(peer, h, AssetMsg.GET_MANIFEST, [this.id], (r) => {
        if (this.manifest !== null) return
        if (r === null || r.kind === 'error') return this.failed(h, r)
        const m = openManifest(this.io.crypto, this.id, r.bytes)
        if (m === null) {
          h.banned = true
          return
        }
        this.manifest = m
        this.manifestBytes = r.bytes
        const n = chunkCount(m.size)
        this.chunks = Array.from({ length: n }, () => undefined)
        this.wanted = Array.from({ length: n }, (_, i) => i)
        this.whole = this.io.crypto.sha256Hasher()
      })
    }
  }

  private askChunks(): void {
    while (this.wanted.length > 0 && this.inFlight < this.limits.total) {
      const pick = this.pickHolder()
      if (pick === undefined || !this.budget(this.wanted[0]!)) return
      const [peer, h] = pick
      const index = this.wanted.shift()!
      this.send(peer, h, AssetMsg.GET_CHUNK, [this.id, index], (r) => this.onChunk(peer, h, index, r))
    }
  }

  /** The usable holder with room and the fewest requests in flight (then fewest failures, then first added). */
  private pickHolder(): [PeerId, Holder] | undefined {
    let best: [PeerId, Holder] | undefined
    for (const e of this.holders) {
      const h = e[1]
      if (!this.usable(h) || h.inFlight >= this.limits.perHolder) continue
      if (best === undefined || h.inFlight < best[1].inFlight || (h.inFlight === best[1].inFlight && h.failures < best[1].failures)) best = e
    }
    return best
  }

  private onChunk(peer: PeerId, h: Holder, index: number, r: AssetReply | null): void {
    if (r === null || r.kind === 'error') {
      this.wanted.unshift(index)
      return this.failed(h, r)
    }
    // The length first: a chunk of the wrong size is rejected without hashing it.
    if (r.bytes.length !== this.chunkBytes(index) || !equalBytes(this.io.crypto.sha256(r.bytes), this.manifest!.chunks[index]!)) {
      this.stats.corruptChunks++
      h.banned = true
      this.wanted.unshift(index)
      return
    }
    this.chunks[index] = r.bytes
    this.stats.chunksFrom.set(peer, (this.stats.chunksFrom.get(peer) ?? 0) + 1)
    const whole = this.whole!
    while (this.hashedChunks < this.chunks.length && this.chunks[this.hashedChunks] !== undefined) whole.update(this.chunks[this.hashedChunks++]!)
    if (this.hashedChunks < this.chunks.length) return
    // Every chunk matched its hash; the whole must match too (a manifest may name chunks that do not make its asset).
    if (!equalBytes(whole.digest(), this.manifest!.hash)) return this.fail(new AssetError('CORRUPT', 'chunks do not make the asset its manifest names'))
    this.done = true
    this.finish({ manifest: this.manifest!, manifestBytes: this.manifestBytes!, bytes: concatBytes(this.chunks as Uint8Array[]) })
  }

  /** Spends the pacer's budget for asking chunk `index`; false while waiting for it. */
  private budget(index: number): boolean {
    if (this.credit > 0) {
      this.credit--
      return true
    }
    if (this.paused) return false
    const now = this.io.admit(this.chunkBytes(index), () => {
      this.paused = false
      this.credit++
      this.step()
    })
    this.paused = !now
    return now
  }

  /** Length of chunk `index` of the asset (the last one may be short). */
  private chunkBytes(index: number): number {
    return Math.min(CHUNK_BYTES, this.manifest!.size - index * CHUNK_BYTES)
  }

  private failed(h: Holder, r: AssetReply | null): void {
    this.stats.failedRequests++
    // A holder that says it lacks the asset will not have it on retry.
    h.failures = r !== null && r.kind === 'error' && r.code === AssetErr.NOT_FOUND ? this.limits.maxFailures : h.failures + 1
  }

  private send(peer: PeerId, h: Holder, type: number, body: unknown[], cb: (r: AssetReply | null) => void): void {
    h.inFlight++
    this.inFlight++
    this.io.request(peer, h.via, type, body, (r) => {
      h.inFlight--
      this.inFlight--
      if (this.done) return
      cb(r)
      this.step()
    })
  }
}
