import { describe, expect, it } from 'vitest'
import { decodeIdentityFile, encodeIdentityFile } from './identity-file.js'
import { checkAvatarFile, sniffImage } from './avatar-image.js'
import { diagnose, WEBRTC_BLOCKED_AFTER_MS, type ConnectionFacts } from './problems.js'
import { cleanName } from './profile.js'
import { addChatLine, applyMoves, colorOf, createWorldStores, MAX_CHAT_LINES, MAX_PROFILES, patchPlayer, recentLines, setProfile } from './stores.js'

const ID = 'ab'.repeat(32)
const OTHER = 'cd'.repeat(32)

function stores() {
  return createWorldStores({ id: ID, world: 'main', signalingUrl: 'ws://x/', x: 10, y: 20, aoi: 200, name: 'me' })
}

describe('stores', () => {
  it('starts with self where the player left and no neighbours', () => {
    const s = stores()
    expect(s.self.getState()).toMatchObject({ id: ID, x: 10, y: 20, name: 'me', aoi: 200, target: null })
    expect(s.neighbours.getState().players.size).toBe(0)
  })

  it('applies a batch of moves in one update, keeping tracks and profiles', () => {
    const s = stores()
    let updates = 0
    s.neighbours.subscribe(() => updates++)
    applyMoves(s.neighbours, [{ id: OTHER, t: 0, x: 1, y: 1 }, { id: OTHER, t: 100, x: 2, y: 1 }])
    expect(updates).toBe(1)
    patchPlayer(s.neighbours, OTHER, { name: 'bob' })
    applyMoves(s.neighbours, [{ id: OTHER, t: 200, x: 3, y: 1 }])
    const p = s.neighbours.getState().players.get(OTHER)!
    expect(p.track.map((x) => x.x)).toEqual([2, 3])
    expect(p.name).toBe('bob')
    expect(p.color).toBe(colorOf(OTHER))
    applyMoves(s.neighbours, [{ id: OTHER, left: true }])
    expect(s.neighbours.getState().players.size).toBe(0)
  })

  it('does not notify for a patch that changes nothing, or for an unknown id', () => {
    const s = stores()
    applyMoves(s.neighbours, [{ id: OTHER, t: 0, x: 1, y: 1 }])
    let updates = 0
    s.neighbours.subscribe(() => updates++)
    patchPlayer(s.neighbours, OTHER, { linkOpen: false })
    patchPlayer(s.neighbours, 'nobody', { name: 'x' })
    expect(updates).toBe(0)
  })

  it('applies arrivals and departures of one batch in order', () => {
    const s = stores()
    applyMoves(s.neighbours, [{ id: OTHER, t: 0, x: 1, y: 1 }, { id: OTHER, left: true }, { id: OTHER, t: 10, x: 5, y: 6 }])
    expect(s.neighbours.getState().players.get(OTHER)?.track).toEqual([{ t: 10, x: 5, y: 6 }])
    applyMoves(s.neighbours, [{ id: OTHER, t: 20, x: 5, y: 7 }, { id: OTHER, left: true }])
    expect(s.neighbours.getState().players.has(OTHER)).toBe(false)
  })

  it('keeps profiles of players not shown, bounded, and gives one to its player when it appears', () => {
    const s = stores()
    const bob = { name: 'bob', color: 0x123456, avatarHash: undefined, avatarUrl: undefined }
    setProfile(s.neighbours, OTHER, bob)
    expect(s.neighbours.getState().players.size).toBe(0)
    applyMoves(s.neighbours, [{ id: OTHER, t: 0, x: 1, y: 1 }])
    expect(s.neighbours.getState().players.get(OTHER)).toMatchObject(bob)
    const ids = Array.from({ length: MAX_PROFILES }, (_, i) => i.toString(16).padStart(64, '0'))
    for (const id of ids) setProfile(s.neighbours, id, { ...bob, name: id })
    setProfile(s.neighbours, ids[0]!, { ...bob, name: 'heard again' })
    setProfile(s.neighbours, OTHER, bob)
    const { profiles } = s.neighbours.getState()
    expect(profiles.size).toBe(MAX_PROFILES)
    expect(profiles.has(ids[1]!)).toBe(false)
    expect(profiles.get(ids[0]!)?.name).toBe('heard again')
  })

  it('keeps a bounded chat log and finds the last line of each speaker for bubbles', () => {
    const s = stores()
    for (let i = 0; i < MAX_CHAT_LINES + 10; i++) addChatLine(s.chat, { from: i % 2 ? ID : OTHER, name: 'n', text: `line ${i}`, at: i, self: i % 2 === 1 })
    const lines = s.chat.getState().lines
    expect(lines).toHaveLength(MAX_CHAT_LINES)
    expect(new Set(lines.map((l) => l.id)).size).toBe(MAX_CHAT_LINES)
    const bubbles = recentLines(lines, MAX_CHAT_LINES + 5)
    expect(bubbles.get(ID)).toBe(`line ${MAX_CHAT_LINES + 9}`)
    expect(bubbles.get(OTHER)).toBe(`line ${MAX_CHAT_LINES + 8}`)
    expect(recentLines(lines, 1e9).size).toBe(0)
  })

  it('gives every id a stable, distinct-enough colour', () => {
    expect(colorOf(ID)).toBe(colorOf(ID))
    expect(colorOf(ID)).not.toBe(colorOf(OTHER))
    expect(colorOf(ID)).toBeLessThanOrEqual(0xffffff)
  })
})

describe('problems', () => {
  const ok: ConnectionFacts = {
    webrtcAvailable: true, signalingUrl: 'ws://node/', signaling: 'joined', connects: 1, lastClose: undefined,
    peerState: 'joined', hosts: 1, linksOpen: 1, everLinked: true, unlinkedForMs: 0, recentFailures: [], ice: { stun: 0, turn: 0 },
  }
  it('says nothing when all is well', () => expect(diagnose(ok)).toBeUndefined())
  it('tells a missing WebRTC first', () => expect(diagnose({ ...ok, webrtcAvailable: false })?.code).toBe('no-webrtc'))
  it('tells an unreachable node to a peer outside, a lost node to a peer inside', () => {
    expect(diagnose({ ...ok, signaling: 'backoff', connects: 3, peerState: 'waiting' })).toMatchObject({ code: 'signaling-unreachable', severity: 'error' })
    expect(diagnose({ ...ok, signaling: 'backoff', connects: 3 })).toMatchObject({ code: 'signaling-lost', severity: 'notice' })
  })
  it('tells a full world by the close code', () => {
    expect(diagnose({ ...ok, signaling: 'backoff', connects: 2, peerState: 'waiting', lastClose: { code: 1013, reason: 'server full' } })?.code).toBe('world-full')
  })
  it('suspects blocked WebRTC when peers are listed and no link ever opens', () => {
    const f = { ...ok, linksOpen: 0, everLinked: false }
    expect(diagnose({ ...f, unlinkedForMs: WEBRTC_BLOCKED_AFTER_MS - 1 })).toBeUndefined()
    expect(diagnose({ ...f, unlinkedForMs: WEBRTC_BLOCKED_AFTER_MS })?.code).toBe('webrtc-blocked')
  })
  describe('links that cannot open', () => {
    const cut = { ...ok, linksOpen: 0, everLinked: false }
    it('without TURN: a strict NAT or firewall, another network, or a TURN server from the host', () => {
      const p = diagnose({ ...cut, recentFailures: ['ice-failed'], ice: { stun: 1, turn: 0 } })!
      expect(p).toMatchObject({ code: 'links-failing', severity: 'error', title: 'Cannot reach other players directly' })
      expect(p.text).toMatch(/^No connection to another player opened\. .*strict NAT.*STUN only.*another network.*add a TURN server \(docs\/deploy\.md/)
      expect(diagnose({ ...cut, recentFailures: ['ice-failed'] })!.text).toMatch(/ICE servers: none/)
    })
    it('with TURN: the network may block the relay', () => {
      expect(diagnose({ ...cut, recentFailures: ['ice-failed'], ice: { stun: 1, turn: 1 } })!.text).toMatch(/even through the TURN relay: this network may block UDP and TCP/)
    })
    it('a notice, not an error, while other links work; counted', () => {
      const p = diagnose({ ...ok, recentFailures: ['ice-failed', 'ice-failed'] })!
      expect(p).toMatchObject({ severity: 'notice', title: 'Some players are out of reach' })
      expect(p.text).toMatch(/^2 connections to nearby players failed in the last minute/)
    })
    it('refused TURN credentials and a browser that offers no address', () => {
      expect(diagnose({ ...cut, recentFailures: ['ice-failed', 'turn-refused'], ice: { stun: 1, turn: 1 } })!.text).toMatch(/--turn-secret-file holds the TURN server's static-auth-secret/)
      const none = diagnose({ ...cut, recentFailures: ['no-candidates'] })!
      expect(none.title).toBe('This browser offers no network address')
      expect(none.text).toMatch(/WebRTC leak protection/)
    })
    it('a page that stepped back for the same player elsewhere offers to play here', () => {
      expect(diagnose({ ...ok, replaced: true, signaling: 'closed' })).toMatchObject({ code: 'replaced', action: 'Play here', severity: 'error' })
    })
    it('relay only without a TURN server says so', () => {
      expect(diagnose({ ...cut, recentFailures: ['no-candidates'], ice: { stun: 1, turn: 0, relayOnly: true } })!.title).toBe('Relay only, but no TURN server')
    })
    it('a signaling problem comes first; an unusable URL parameter last', () => {
      expect(diagnose({ ...cut, signaling: 'backoff', connects: 3, peerState: 'waiting', recentFailures: ['ice-failed'] })?.code).toBe('signaling-unreachable')
      expect(diagnose({ ...ok, badParameter: 'ice: not valid JSON' })).toMatchObject({ code: 'bad-parameter', severity: 'notice', text: 'ice: not valid JSON' })
    })
  })
})

describe('profile, avatar and identity files', () => {
  it('cleans names', () => {
    expect(cleanName('  a\n\tb  ')).toBe('a b')
    expect(cleanName('x'.repeat(100))).toHaveLength(24)
  })

  it('recognises PNG, JPEG and WebP by their bytes and refuses the rest', () => {
    expect(sniffImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('png')
    expect(sniffImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg')
    expect(sniffImage(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp')
    expect(sniffImage(new TextEncoder().encode('<svg></svg>'))).toBeUndefined()
    expect(() => checkAvatarFile(new TextEncoder().encode('GIF89a....'))).toThrow(/not a PNG/)
    expect(() => checkAvatarFile(new Uint8Array(256 * 1024 + 1))).toThrow(/at most 256 KiB/)
  })

  it('round-trips an identity file and rejects anything else', () => {
    const seed = new Uint8Array(32).map((_, i) => i)
    const avatar = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
    const text = encodeIdentityFile({ seed, name: 'alice', avatar, position: { x: 12.5, y: 900 } })
    expect(decodeIdentityFile(text)).toEqual({ seed, name: 'alice', avatar, position: { x: 12.5, y: 900 } })
    expect(decodeIdentityFile('{}')).toBeNull()
    expect(decodeIdentityFile('not json')).toBeNull()
    expect(decodeIdentityFile(text.replace(/"seed": "[0-9a-f]+"/, '"seed": "abcd"'))).toBeNull()
  })
})
