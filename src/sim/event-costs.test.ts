import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../core/codec.js'
import { LINK_PROTO, LinkMsg, PROTOCOL } from '../link/link-messages.js'
import { VonMsg } from '../von/messages.js'
import { EventCosts, formatEventCosts, mergeEventCosts } from './event-costs.js'
import { findScenario } from './scenarios/index.js'
import { runVon } from './von-world.js'

/** A clock that advances 1 ms each time it is read: every event then costs exactly 1 ms. */
function tickingClock(): () => number {
  let t = 0
  return () => t++
}

describe('event costs', () => {
  it('names deliveries by protocol and message, timers by their callback, and skips events before the window', () => {
    const costs = new EventCosts(tickingClock(), 100)
    function onArrive(): void {}
    function runIfAlive(): void {}
    function vonTick(): void {}
    costs.add(100, onArrive, encodeFrame(PROTOCOL.VON, VonMsg.MOVE, [1, 2, 100, 3]), 2)
    costs.add(150, onArrive, encodeFrame(PROTOCOL.VON, VonMsg.MOVE, [1, 2, 100, 4]), 4)
    costs.add(150, onArrive, encodeFrame(LINK_PROTO, LinkMsg.PROBE, [1, 0]), 1)
    costs.add(150, onArrive, encodeFrame(PROTOCOL.TEST, 9, null), 1)
    costs.add(150, onArrive, new Uint8Array([0xc1]), 1)
    costs.add(160, runIfAlive, vonTick, 30)
    costs.add(170, () => {}, undefined, 5)
    costs.add(99, onArrive, encodeFrame(PROTOCOL.VON, VonMsg.NODES, []), 1000)
    expect(costs.table()).toEqual([
      { kind: 'timer vonTick', events: 1, ms: 30 },
      { kind: 'deliver VON MOVE', events: 2, ms: 6 },
      { kind: 'anonymous', events: 1, ms: 5 },
      { kind: 'deliver (not a frame)', events: 1, ms: 1 },
      { kind: 'deliver LINK PROBE', events: 1, ms: 1 },
      { kind: 'deliver TEST type 9', events: 1, ms: 1 },
    ])
  })

  it('sums the tables of several workers and prints a table', () => {
    const merged = mergeEventCosts([
      [{ kind: 'deliver VON MOVE', events: 10, ms: 20 }],
      [
        { kind: 'deliver VON MOVE', events: 5, ms: 10 },
        { kind: 'timer vonTick', events: 1, ms: 50 },
      ],
    ])
    expect(merged).toEqual([
      { kind: 'timer vonTick', events: 1, ms: 50 },
      { kind: 'deliver VON MOVE', events: 15, ms: 30 },
    ])
    const text = formatEventCosts(merged)
    expect(text.split('\n')).toHaveLength(4)
    expect(text).toContain('timer vonTick')
    expect(text).toMatch(/all\s+16\s+0\.1 s\s+5000\.0/)
  })

  it('times the measured window of a VON run without changing the run', () => {
    const init = findScenario('vast')!.von!({
      peers: 30,
      seconds: 3,
      seed: '5',
      trace: undefined,
      options: new Map([
        ['join-seconds', '3'],
        ['settle-seconds', '1'],
      ]),
      progress: () => {},
    })
    const plain = runVon(init)
    const timed = runVon({ ...init, eventClock: tickingClock() })
    expect(timed.metrics.traceHash).toBe(plain.metrics.traceHash)
    expect(plain.eventCosts).toBeUndefined()
    const rows = timed.eventCosts!
    const kinds = rows.map((r) => r.kind)
    expect(kinds).toContain('deliver VON MOVE')
    expect(kinds).toContain('timer vonTick')
    expect(kinds).toContain('timer linkTick')
    // The ticking clock makes each event cost 1 ms: time and count agree, and only the window counts.
    for (const r of rows) expect(r.ms).toBe(r.events)
    const events = rows.reduce((a, r) => a + r.events, 0)
    expect(events).toBeGreaterThan(1000)
    expect(events).toBeLessThan(timed.metrics.eventsRun as number)
  })
})
