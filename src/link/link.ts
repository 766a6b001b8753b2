import type { PeerId } from '../core/id.js'
import type { Priority } from './priority.js'
import { RateEstimator } from './rate-estimator.js'
import { ReceiveBudget, resolveReceiveBudget, type ResolvedReceiveBudget } from './receive-budget.js'
import { Reassembler } from './reassembler.js'
import { RttEstimator } from './rtt.js'
import { PriorityScheduler, type SchedulerInit } from './scheduler.js'
import type { Reach } from './nat.js'
import type { VolunteerInfo } from './relay.js'
import type { Connection } from './transport.js'

export interface PacingInit {
  /**
   * How much the transport may buffer, in time at the link's measured rate.
   * @default 4
   */
  bufferTargetMs?: number
  /** @default 256 */
  minBufferBytes?: number
  /** @default 65536 */
  maxBufferBytes?: number
  /**
   * Target time on the wire of one fragment: about the most a bulk message delays a move.
   * @default 8
   */
  fragmentTargetMs?: number
  /**
   * Fragments are whole multiples of this, so none ends in a mostly empty packet:
   * the user data one SCTP packet carries in Chromium (MTU 1191 minus 28 bytes of
   * SCTP headers).
   * @default 1163
   */
  fragmentUnitBytes?: number
  /** @default 16384 */
  maxFragmentBytes?: number
}

export type LinkState = 'connecting' | 'open' | 'closed'

/** Queue length and bytes of one class. */
export interface ClassQueueStats {
  count: number
  bytes: number
}

/**
 * One link to a remote peer, shared by every protocol: the connection, its
 * scheduler, reassembly of fragments, pacing and counters. The LinkManager
 * decides when links open and close; this class moves bytes.
 */
export class Link {
  state: LinkState = 'connecting'
  /** The connection frames go out on. On an open link carried by a circuit whose relay went, none until another opens. */
  conn: Connection | undefined
  /**
   * A second connection (see relay.ts): a circuit opening while the direct
   * attempt still tries, or a direct attempt (an upgrade) while a circuit
   * carries the link. Frames from either are delivered; the first to open
   * carries the link.
   */
  alt: Connection | undefined
  /** The alternate's attempt number, and whether we dialled it. */
  altAttempt = -1
  altInitiator = false
  /** When the alternate started (a direct one gives up after connectTimeoutMs). */
  altAt = 0
  /** What the remote said of its reach, home relays and relay capacity in its signaling. */
  remoteReach: Reach | undefined
  remoteRelays: readonly PeerId[] = []
  remoteVolunteer: VolunteerInfo | undefined
  /** The home relays we named in our signaling for this link. */
  localRelays: readonly PeerId[] = []
  /** The attempts (main or alternate, ours or the remote's, by number) whose first signal carried our reach: each says it once. */
  readonly reachSent = new Set<string>()
  /** When to open a circuit if still not open (0: none planned). */
  circuitAt = 0
  /** Relays tried for this link's circuits, and when (one is tried again after a while). */
  readonly relaysTried = new Map<PeerId, number>()
  /** Next direct attempt of a link a circuit carries, and the backoff after it. */
  upgradeAt = 0
  upgradeBackoff = 0
  /** Since when an open link has had no connection (its circuit's relay went). */
  lostAt = -1
  /** The peers that route this link's signaling (first hop is linked to us), if any. */
  via: PeerId[] | undefined
  /** How this link's signaling travelled: through a linked peer or the bootstrap node. */
  route: 'intro' | 'signaling' | undefined
  initiator: boolean
  /** The connection attempt: ours when initiating, the remote's when answering. */
  attempt = -1
  /** When the current attempt started, and whether the remote answered it. */
  attemptAt: number
  answered = false
  readonly createdAt: number
  openedAt = -1
  lastSentAt: number
  lastRecvAt: number
  /** Last frame of a protocol other than the link's own keepalive, either way. */
  lastUseAt: number
  /** Until when the remote said (by keepalive) that it still wants this link. */
  remoteWantsUntil = 0
  /** Wanted by a protocol of ours at the last tick, and since when (the dead timer starts there). */
  wanted = false
  wantedSince = 0
  /** When we last probed because the link went quiet (see LinkManagerInit.suspectAfterMs). */
  suspectProbeAt = -Infinity
  /** The usual gap between frames received (a moving average, ms): a busy link is suspected sooner. */
  recvGapMs = 500
  bytesSent = 0
  bytesReceived = 0
  framesReceived = 0
  badFrames = 0
  /** What the remote may still send (a link that replaces an open one to the same peer takes it over). */
  budget: ReceiveBudget
  readonly scheduler: PriorityScheduler
  readonly reassembler = new Reassembler()
  readonly rate = new RateEstimator()
  readonly rtt = new RttEstimator()
  private handed = 0
  private readonly pacing: Required<PacingInit>
  // Threshold and fragment size for the rate they were computed at (fields, not
  // an object of their own: every send reads them).
  private sizedRate: number | undefined = undefined
  private threshold = 0
  private fragment = 0

  constructor(
    readonly remote: PeerId,
    initiator: boolean,
    now: number,
    scheduler: SchedulerInit,
    pacing: PacingInit,
    receive: ResolvedReceiveBudget = resolveReceiveBudget(),
  ) {
    this.initiator = initiator
    this.budget = new ReceiveBudget(receive, now)
    this.createdAt = now
    this.attemptAt = now
    this.lastSentAt = now
    this.lastRecvAt = now
    this.lastUseAt = now
    this.scheduler = new PriorityScheduler(scheduler)
    this.pacing = {
      bufferTargetMs: pacing.bufferTargetMs ?? 4,
      minBufferBytes: pacing.minBufferBytes ?? 256,
      maxBufferBytes: pacing.maxBufferBytes ?? 64 * 1024,
      fragmentTargetMs: pacing.fragmentTargetMs ?? 8,
      fragmentUnitBytes: pacing.fragmentUnitBytes ?? 1163,
      maxFragmentBytes: pacing.maxFragmentBytes ?? 16 * 1024,
    }
  }

  /** Bytes the transport may hold before we stop handing it more. */
  get bufferThreshold(): number {
    this.resize()
    return this.threshold
  }

  /** Largest piece handed to the transport at once, a whole number of fragment units. */
  get fragmentBytes(): number {
    this.resize()
    return this.fragment
  }

  /** Recomputes threshold and fragment size when the rate estimate changed. */
  private resize(): void {
    const r = this.rate.bytesPerSec
    if (r === this.sizedRate && this.fragment > 0) return
    const p = this.pacing
    const unit = p.fragmentUnitBytes
    const maxUnits = Math.max(1, Math.floor(p.maxFragmentBytes / unit))
    const units = r === undefined ? 1 : Math.round((r * p.fragmentTargetMs) / 1000 / unit)
    this.sizedRate = r
    this.threshold = sized(r, p.bufferTargetMs, p.minBufferBytes, p.maxBufferBytes)
    this.fragment = unit * Math.max(1, Math.min(maxUnits, units))
  }

  /** Time one fragment takes on the wire at the measured rate (ms), if known. */
  get chunkMs(): number | undefined {
    const r = this.rate.bytesPerSec
    return r === undefined ? undefined : (this.fragmentBytes * 1000) / r
  }

  queueStats(cls: Priority): ClassQueueStats {
    return { count: this.scheduler.length(cls), bytes: this.scheduler.queuedBytes(cls) }
  }

  /**
   * The common case without a queue: nothing waits, the transport's buffer is
   * under the threshold and the frame needs no fragmenting, so it goes straight
   * to the transport, exactly as a pass through the empty scheduler would.
   */
  trySendNow(bytes: Uint8Array, now: number, priority: Priority): boolean {
    const conn = this.conn
    if (this.state !== 'open' || conn === undefined || !this.scheduler.isEmpty() || bytes.length > this.fragmentBytes) return false
    const before = conn.bufferedAmount
    const threshold = this.bufferThreshold
    if (before > threshold) return false
    if (conn.bufferedAmountLowThreshold !== threshold) conn.bufferedAmountLowThreshold = threshold
    // Rate is measured only while a queue keeps the transport busy (see pump); a
    // link that goes through here had run dry, so any window in progress is void.
    if (before === 0) this.rate.idle()
    conn.send(bytes, priority)
    this.handed += bytes.length
    this.bytesSent += bytes.length
    this.lastSentAt = now
    return true
  }

  /**
   * Hands pieces to the transport while its buffer is under the threshold.
   * Called on enqueue, and with `drained` when the transport reports its buffer
   * fell to the threshold.
   */
  pump(now: number, drained = false): void {
    const conn = this.conn
    if (this.state !== 'open' || conn === undefined) return
    const before = conn.bufferedAmount
    if (before === 0 && this.scheduler.isEmpty() && !drained) {
      this.rate.idle()
      return
    }
    this.rate.observe(now, this.handed - before, drained || before > 0, before > 0 || !this.scheduler.isEmpty())
    const threshold = this.bufferThreshold
    if (conn.bufferedAmountLowThreshold !== threshold) conn.bufferedAmountLowThreshold = threshold
    const fragment = this.fragmentBytes
    let sent = false
    // Track the buffer locally and ask the transport again only near the threshold.
    let buffered = before
    for (;;) {
      if (buffered > threshold) {
        buffered = conn.bufferedAmount
        if (buffered > threshold) break
      }
      const out = this.scheduler.next(now, fragment)
      if (out === null) break
      conn.send(out.bytes, out.cls)
      buffered += out.bytes.length
      this.handed += out.bytes.length
      this.bytesSent += out.bytes.length
      sent = true
    }
    if (sent) this.lastSentAt = now
    const after = conn.bufferedAmount
    this.rate.observe(now, this.handed - after, true, after > 0)
  }
}

function sized(bytesPerSec: number | undefined, targetMs: number, min: number, max: number): number {
  if (bytesPerSec === undefined) return min
  return Math.max(min, Math.min(max, Math.floor((bytesPerSec * targetMs) / 1000)))
}
