import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { PeerBridge } from './peer-bridge.js'
import { createWorldStores } from './stores.js'

const SELF = 'ab'.repeat(32)
const OTHER = 'cd'.repeat(32) as PeerId

function setup() {
  const stores = createWorldStores({ id: SELF, world: 'main', signalingUrl: 'ws://x/', x: 0, y: 0, aoi: 200, name: 'me' })
  let t = 0
  const bridge = new PeerBridge(stores, () => t)
  return { stores, bridge, listener: bridge.listener, advance: (ms: number) => (t += ms) }
}

describe('PeerBridge', () => {
  it('keeps a neighbour that leaves and enters again between two flushes (a reload)', () => {
    const { stores, bridge, listener, advance } = setup()
    listener.onEnter?.(OTHER, 10, 20)
    bridge.flush()
    advance(10)
    listener.onLeave?.(OTHER)
    listener.onEnter?.(OTHER, 30, 40)
    bridge.flush()
    const p = stores.neighbours.getState().players.get(OTHER)
    // A fresh track: the old session's positions are not interpolated into the new one.
    expect(p?.track).toEqual([{ t: 10, x: 30, y: 40 }])
  })

  it('drops a neighbour that enters and leaves between two flushes', () => {
    const { stores, bridge, listener } = setup()
    listener.onEnter?.(OTHER, 10, 20)
    listener.onMove?.(OTHER, 11, 20, 0, 0)
    listener.onLeave?.(OTHER)
    bridge.flush()
    expect(stores.neighbours.getState().players.has(OTHER)).toBe(false)
  })
})
