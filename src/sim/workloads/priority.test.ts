import { describe, expect, it } from 'vitest'
import { runPriorityArm } from './priority.js'

// The bench:priority goals, on a 2 MB transfer so the test stays short. Virtual
// time makes these figures independent of the machine's speed.
describe('priority workload (seed 000 experiment)', () => {
  const assetBytes = 2_000_000
  const priority = runPriorityArm({ mode: 'priority', transfer: true, assetBytes })
  const fifo = runPriorityArm({ mode: 'fifo', transfer: true, assetBytes })
  const idle = runPriorityArm({ mode: 'priority', transfer: false, windowEndMs: priority.windowEndMs })

  it('keeps move p99 during a transfer within idle p99 + 20 ms, where FIFO degrades', () => {
    expect(priority.moves.count).toBeGreaterThan(300)
    expect(priority.moves.p99Ms).toBeLessThanOrEqual(idle.moves.p99Ms + 20)
    expect(fifo.moves.p99Ms).toBeGreaterThan(idle.moves.p99Ms + 200)
  })

  it('bounds the longest MEDIUM wait by the aging bound plus one chunk', () => {
    expect(priority.mediumMaxWaitMs).toBeLessThanOrEqual(priority.agingBoundMs + priority.chunkMs)
  })

  it('gives the transfer at least 90 % of the spare capacity', () => {
    const spare = 125_000 - idle.senderWireBytesPerSec
    const goodput = priority.assetDeliveredBytes / (priority.transferMs! / 1000)
    expect(priority.assetDeliveredBytes).toBe(assetBytes)
    expect(goodput / spare).toBeGreaterThanOrEqual(0.9)
    expect(goodput / spare).toBeLessThanOrEqual(1)
  })
})
