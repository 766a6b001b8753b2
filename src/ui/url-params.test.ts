import { describe, expect, it } from 'vitest'
import { readPageParams } from './url-params.js'

const ID = 'ab'.repeat(32)
const read = (search: string) => readPageParams(search, 'main')

describe('URL parameters', () => {
  it('takes good values without a word', () => {
    const p = read(`?world=Tokyo%20東京&signaling=wss://node.example/&peers=${ID}&log=debug&ice=none&stress=20&headless=1&offline=0&relay&dht=0`)
    expect(p).toMatchObject({ world: 'Tokyo 東京', signalingUrl: 'wss://node.example/', manualPeers: [ID], log: 'debug', ice: [], stress: 20, headless: true, offline: false, relay: true, dht: false })
    expect(p.notices).toEqual([])
    expect(read('').notices).toEqual([])
    expect(read('').world).toBe('main')
  })

  it('normalises a world name: NFC, trimmed, inner spaces as one', () => {
    expect(read('?world=%20caf%C3%A9%20%20bar%20').world).toBe('café bar')
    expect(read('?world=cafe%CC%81').world).toBe('café')
  })

  it.each([
    ['?world=a/b', /\?world="a\/b" is not a world name \(letters, digits, _ \. - and single spaces between them, at most 64 characters\); playing in "main"/],
    [`?world=${'x'.repeat(65)}`, /is not a world name/],
    ['?world=%F0%9F%98%80', /is not a world name/],
    ['?signaling=http://node/', /\?signaling="http:\/\/node\/" is not a ws:\/\/ or wss:\/\/ URL; using this page's own node/],
    ['?signaling=not%20a%20url', /is not a ws:\/\/ or wss:\/\/ URL/],
    ['?peers=garbage', /\?peers: 1 entry is not a peer id \(64 hex digits\) and left out: "garbage"/],
    ['?log=loud', /\?log="loud": use debug, info, warn, error or silent/],
    ['?ice=turn:h:1', /^\?ice: a TURN URL needs credentials: .*\. Using the signaling node's ICE servers instead\.$/],
    ['?stress=garbage', /\?stress="garbage" is not a whole number of avatars; none are added/],
    ['?stress=100000', /\?stress=100000: at most 1000 avatars; 1000 are added/],
    ['?headless=yes', /\?headless="yes": use 1 or 0; taken as 1/],
    ['?wrold=dev', /\?"wrold" is not a parameter of this page; ignored/],
  ])('says what it did with %s', (search, notice) => {
    const p = read(search)
    expect(p.notices).toHaveLength(1)
    expect(p.notices[0]).toMatch(notice)
  })

  it('falls back to defaults for what it refused', () => {
    expect(read('?world=a/b&signaling=x&stress=100000&peers=zz,' + ID)).toMatchObject({ world: 'main', signalingUrl: undefined, stress: 1000, manualPeers: [ID] })
    expect(read(`?peers=${Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(2, '0').repeat(32)).join(',')}`).manualPeers).toHaveLength(16)
  })
})
