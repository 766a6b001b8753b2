import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import type { Peer } from '../peer/peer.js'
import { PRESENCE_SERVICE, type Profile } from '../peer/presence-service.js'
import { PeerBridge } from './peer-bridge.js'
import { PeerServiceLink } from './service-link.js'
import { createWorldStores } from './stores.js'

const SELF = 'ab'.repeat(32)
const ADA = 'cd'.repeat(32) as PeerId
const PROFILE: Profile = { name: 'ada', colour: 0x336699, avatar: null }

/** The part of the presence service the link uses: it tells new or changed profiles only, like the real one. */
class FakePresence {
  private listener: ((id: PeerId, p: Profile) => void) | undefined
  profiles(): ReadonlyMap<PeerId, Profile> {
    return new Map()
  }
  onProfile(listener: (id: PeerId, p: Profile) => void): () => void {
    this.listener = listener
    return () => (this.listener = undefined)
  }
  heard(id: PeerId, p: Profile): void {
    this.listener?.(id, p)
  }
}

function setup() {
  const stores = createWorldStores({ id: SELF, world: 'main', signalingUrl: 'ws://x/', x: 0, y: 0, aoi: 200, name: 'me' })
  const presence = new FakePresence()
  const peer = { service: (name: string) => (name === PRESENCE_SERVICE ? presence : undefined) } as unknown as Peer
  const bridge = new PeerBridge(stores, () => 0)
  const link = new PeerServiceLink(stores, () => peer, () => 0, () => {})
  link.poll() // binds the services
  const shown = () => stores.neighbours.getState().players.get(ADA)
  return { presence, bridge, listener: bridge.listener, shown }
}

describe('PeerServiceLink profiles', () => {
  it('shows a profile heard before the neighbour\'s enter is applied', () => {
    const { presence, bridge, listener, shown } = setup()
    listener.onEnter?.(ADA, 10, 20)
    presence.heard(ADA, PROFILE) // on the same link as the enter, before the next tick's flush
    bridge.flush()
    expect(shown()).toMatchObject({ name: 'ada', color: 0x336699 })
  })

  it('shows the profile again when a neighbour comes back with the same one (presence does not repeat it)', () => {
    const { presence, bridge, listener, shown } = setup()
    listener.onEnter?.(ADA, 10, 20)
    bridge.flush()
    presence.heard(ADA, PROFILE)
    listener.onLeave?.(ADA)
    bridge.flush()
    expect(shown()).toBeUndefined()
    listener.onEnter?.(ADA, 10, 20)
    bridge.flush()
    expect(shown()?.name).toBe('ada')
  })
})
