import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { LinkFailures, MAX_LINK_FAILURES } from './link-failures.js'

describe('failed connection attempts', () => {
  it('keeps the last few, counts all, and answers by time', () => {
    const f = new LinkFailures()
    const lines: string[] = []
    const log = { debug: (m: string) => lines.push(`debug ${m}`), info: (m: string) => lines.push(`info ${m}`), warn: () => {}, error: () => {} }
    for (let i = 0; i < MAX_LINK_FAILURES + 8; i++) {
      const cause = i % 2 === 0 ? { code: 'ice-failed' as const, detail: 'd' } : { code: 'no-answer' as const, detail: 'd' }
      f.record({ peer: `p${i}` as PeerId, at: i * 100, triedMs: 10_000, reason: 'connect-timeout', route: 'signaling', cause }, log)
    }
    expect(f.total).toBe(MAX_LINK_FAILURES + 8)
    expect(f.since(0)).toHaveLength(MAX_LINK_FAILURES)
    expect(f.since(0)[0]!.peer).toBe('p8')
    expect(f.since(3900).map((x) => x.peer)).toEqual(['p39'])
    // A network cause is worth an info line; a peer that never answered is not.
    expect(lines.slice(0, 2)).toEqual(['info link failed', 'debug link failed'])
  })
})
