import { describe, expect, it } from 'vitest'
import { describeIce, parseIceOverride, parseIceServers } from './ice-servers.js'
import { parseServerMessage } from './signaling/signaling-protocol.js'

const TURN = { urls: ['turn:198.18.0.1:3478?transport=udp'], username: '1700000000:ab', credential: 'c2VjcmV0' }

describe('ICE server lists from the node', () => {
  it('accepts STUN, TURN with credentials, and a single URL string', () => {
    expect(parseIceServers([{ urls: 'stun:h:3478' }, TURN])).toEqual([{ urls: ['stun:h:3478'] }, TURN])
    expect(parseIceServers([])).toEqual([])
  })

  it('refuses TURN without credentials, odd schemes, oversized fields and lists', () => {
    expect(parseIceServers([{ urls: ['turn:h:3478'] }])).toBeNull()
    expect(parseIceServers([{ urls: ['stun:h'], username: 'u' }])).toBeNull()
    expect(parseIceServers([{ urls: ['http://h'] }])).toBeNull()
    expect(parseIceServers([{ urls: ['stun://h'] }])).toBeNull()
    expect(parseIceServers([{ urls: ['stun:h x'] }])).toBeNull()
    expect(parseIceServers([{ urls: [] }])).toBeNull()
    expect(parseIceServers([{ urls: [`stun:${'a'.repeat(300)}`] }])).toBeNull()
    expect(parseIceServers([{ ...TURN, credential: 'c'.repeat(300) }])).toBeNull()
    expect(parseIceServers(Array.from({ length: 9 }, () => ({ urls: 'stun:h' })))).toBeNull()
    expect(parseIceServers({ urls: 'stun:h' })).toBeNull()
    expect(parseIceServers([null])).toBeNull()
  })

  it('a welcome with a malformed list is dropped, one without a list is fine', () => {
    const id = 'ab'.repeat(32)
    expect(parseServerMessage(JSON.stringify({ t: 'welcome', id }))).toEqual({ t: 'welcome', id })
    expect(parseServerMessage(JSON.stringify({ t: 'welcome', id, ice: [TURN] }))).toEqual({ t: 'welcome', id, ice: [TURN] })
    expect(parseServerMessage(JSON.stringify({ t: 'welcome', id, ice: [{ urls: 'turn:h' }] }))).toBeNull()
    expect(parseServerMessage(JSON.stringify({ t: 'ice', ice: [TURN] }))).toEqual({ t: 'ice', ice: [TURN] })
    expect(parseServerMessage(JSON.stringify({ t: 'ice' }))).toBeNull()
  })
})

describe('?ice= and --ice', () => {
  it('node, none, STUN URLs, JSON', () => {
    expect(parseIceOverride('node')).toBe('node')
    expect(parseIceOverride('')).toBe('node')
    expect(parseIceOverride('none')).toEqual([])
    expect(parseIceOverride('stun:a:3478, stun:b:3478')).toEqual([{ urls: ['stun:a:3478', 'stun:b:3478'] }])
    expect(parseIceOverride(JSON.stringify([TURN]))).toEqual([TURN])
  })

  it('says what is wrong', () => {
    expect(parseIceOverride('turn:a:3478')).toEqual({ error: expect.stringMatching(/needs credentials/) })
    expect(parseIceOverride('[{')).toEqual({ error: 'ice: not valid JSON' })
    expect(parseIceOverride('[{"urls":"turn:a"}]')).toEqual({ error: expect.stringMatching(/TURN with credentials/) })
    expect(parseIceOverride('example.com')).toEqual({ error: expect.stringMatching(/expected node, none/) })
  })

  it('describes a list without credentials', () => {
    expect(describeIce([])).toBe('none')
    expect(describeIce([{ urls: ['stun:a', 'stun:b'] }, TURN])).toBe('STUN 2 · TURN 1')
  })
})
