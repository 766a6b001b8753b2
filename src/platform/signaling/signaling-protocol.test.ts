import { describe, expect, it } from 'vitest'
import { isWorldName, normalizeWorldName, parseClientMessage } from './signaling-protocol.js'

describe('world names', () => {
  it('letters of any script, digits, _ . - and single inner spaces, at most 64 characters, in NFC', () => {
    for (const ok of ['main', 'Tokyo 東京', 'café', 'a.b_c-d', 'Ελλάδα 2', 'x'.repeat(64), '東'.repeat(64)]) expect(isWorldName(ok), ok).toBe(true)
    for (const bad of ['', ' a', 'a ', 'a  b', 'a/b', 'a\nb', 'x'.repeat(65), '😀', 'cafe\u0301', 5, null]) expect(isWorldName(bad), String(bad)).toBe(false)
    expect(normalizeWorldName(' cafe\u0301\t bar ')).toBe('café bar')
  })

  it('the node takes a join to a Unicode world and refuses one not in NFC', () => {
    expect(parseClientMessage(JSON.stringify({ t: 'join', world: 'Tokyo 東京' }))).toEqual({ t: 'join', world: 'Tokyo 東京' })
    expect(parseClientMessage(JSON.stringify({ t: 'join', world: 'cafe\u0301' }))).toBeNull()
  })
})
