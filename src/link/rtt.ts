import { encodeFrame, isUint } from '../core/codec.js'
import type { Link } from './link.js'
import { LINK_PROTO, LinkMsg } from './link-messages.js'
import { Priority } from './priority.js'

/**
 * Round-trip time of a link, measured by a small probe the remote echoes at
 * once. Probe and echo travel HIGH, like moves, so a sample includes what a
 * move waits for: the transport's buffer, the piece of bulk data ahead of it
 * and the remote's event loop, not just the network path. One probe is in
 * flight per link at most, so the cost is a few bytes every `rttProbeMs`.
 */

/** Largest probe sequence number (uint32). */
const MAX_SEQ = 0xffff_ffff
/** Raw samples kept per link, for percentiles that a smoothed value would hide. */
export const RTT_RECENT_SAMPLES = 16
/** A probe unanswered this long is counted lost and another may go (at least this, or two intervals). */
export const RTT_PROBE_TIMEOUT_MS = 10_000
/** Samples above this are dropped (a stalled link; the probe timed out long ago). */
const MAX_SAMPLE_MS = 60_000
/** RFC 6298 gains: SRTT by 1/8, RTTVAR by 1/4. */
const ALPHA = 0.125
const BETA = 0.25
/** An echo waiting to go supersedes an older one: a peer flooding probes gets one echo at a time. */
const ECHO_KEY = 'rtt-echo'

/** A link's round-trip estimate (ms). */
export interface RttStats {
  /** Smoothed RTT (RFC 6298). */
  srttMs: number
  /** Smoothed mean deviation. */
  rttvarMs: number
  minMs: number
  lastMs: number
  samples: number
  /** Probes that went unanswered. */
  lost: number
  /** The latest samples, oldest first (at most {@link RTT_RECENT_SAMPLES}). */
  recentMs: readonly number[]
}

/** RTT percentiles over several links, from their recent raw samples. */
export interface RttSummary {
  /** Links with at least one sample. */
  links: number
  samples: number
  p50Ms: number
  p95Ms: number
  maxMs: number
}

/** The estimate of one link and its probe in flight. */
export class RttEstimator {
  srttMs: number | undefined
  rttvarMs = 0
  minMs = Infinity
  lastMs = 0
  samples = 0
  lost = 0
  private readonly recent: number[] = []
  private seq = 0
  private inFlight: { seq: number; sentAt: number } | undefined
  private lastProbeAt = -Infinity

  /** Folds in one sample (RFC 6298 section 2). */
  add(sampleMs: number): void {
    if (!(sampleMs >= 0 && sampleMs <= MAX_SAMPLE_MS)) return
    if (this.srttMs === undefined) {
      this.srttMs = sampleMs
      this.rttvarMs = sampleMs / 2
    } else {
      this.rttvarMs += BETA * (Math.abs(this.srttMs - sampleMs) - this.rttvarMs)
      this.srttMs += ALPHA * (sampleMs - this.srttMs)
    }
    this.minMs = Math.min(this.minMs, sampleMs)
    this.lastMs = sampleMs
    this.samples++
    if (this.recent.length >= RTT_RECENT_SAMPLES) this.recent.shift()
    this.recent.push(sampleMs)
  }

  /** Whether a probe should go now: none in flight (or the one in flight is lost) and `intervalMs` since the last. */
  probeDue(now: number, intervalMs: number): boolean {
    if (this.inFlight !== undefined) {
      if (now - this.inFlight.sentAt < Math.max(RTT_PROBE_TIMEOUT_MS, 2 * intervalMs)) return false
      this.inFlight = undefined
      this.lost++
    }
    return now - this.lastProbeAt >= intervalMs
  }

  /** Starts a probe; returns its sequence number. */
  startProbe(now: number): number {
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1
    this.inFlight = { seq: this.seq, sentAt: now }
    this.lastProbeAt = now
    return this.seq
  }

  /** An echo arrived: a sample when it answers the probe in flight, else ignored. */
  echo(seq: number, now: number): boolean {
    if (this.inFlight === undefined || this.inFlight.seq !== seq) return false
    const sample = now - this.inFlight.sentAt
    this.inFlight = undefined
    this.add(sample)
    return true
  }

  stats(): RttStats | undefined {
    if (this.srttMs === undefined) return undefined
    return {
      srttMs: this.srttMs, rttvarMs: this.rttvarMs, minMs: this.minMs, lastMs: this.lastMs,
      samples: this.samples, lost: this.lost, recentMs: [...this.recent],
    }
  }
}

/** PROBE `[seq, want]`: `want` 1 doubles as the keepalive "I want this link". */
export function encodeProbe(seq: number, want: boolean): Uint8Array {
  return encodeFrame(LINK_PROTO, LinkMsg.PROBE, [seq, want ? 1 : 0])
}

export function encodeEcho(seq: number): Uint8Array {
  return encodeFrame(LINK_PROTO, LinkMsg.ECHO, seq)
}

/** Sends a probe on `link` at HIGH. */
export function sendProbe(link: Link, now: number, want: boolean): void {
  sendHigh(link, encodeProbe(link.rtt.startProbe(now), want), now)
}

/**
 * Handles a PROBE (answered at once with an ECHO) or an ECHO (a sample when it
 * answers our probe in flight) from the remote of `link`. Returns 'bad' for a
 * malformed payload, 'want' for a probe that says the remote wants the link.
 */
export function onRttFrame(link: Link, type: number, payload: unknown, now: number): 'bad' | 'want' | 'ok' {
  if (type === LinkMsg.ECHO) {
    if (!isUint(payload, MAX_SEQ)) return 'bad'
    link.rtt.echo(payload, now)
    return 'ok'
  }
  if (!Array.isArray(payload) || payload.length !== 2) return 'bad'
  const [seq, want] = payload as [unknown, unknown]
  if (!isUint(seq, MAX_SEQ) || (want !== 0 && want !== 1)) return 'bad'
  sendHigh(link, encodeEcho(seq), now, ECHO_KEY)
  return want === 1 ? 'want' : 'ok'
}

function sendHigh(link: Link, bytes: Uint8Array, now: number, key?: string): void {
  if (!link.trySendNow(bytes, now, Priority.HIGH) && link.scheduler.enqueue(Priority.HIGH, bytes, now, key) !== 'rejected') link.pump(now)
}

/** Percentiles of the recent samples of several links; undefined when none has a sample. */
export function summarizeRtt(stats: Iterable<RttStats | undefined>): RttSummary | undefined {
  const all: number[] = []
  let links = 0
  for (const s of stats) {
    if (s === undefined || s.recentMs.length === 0) continue
    links++
    all.push(...s.recentMs)
  }
  if (all.length === 0) return undefined
  all.sort((a, b) => a - b)
  const at = (p: number): number => all[Math.min(all.length - 1, Math.max(0, Math.ceil((p / 100) * all.length) - 1))]!
  return { links, samples: all.length, p50Ms: at(50), p95Ms: at(95), maxMs: all[all.length - 1]! }
}
