import type { NeighbourKind } from '../ui/stores.js'

/** Colours of the inspector, shared with its legend in the DOM panel. */
export const KIND_COLOURS: Readonly<Record<NeighbourKind, number>> = {
  enclosing: 0xffa726,
  boundary: 0xec407a,
  aoi: 0x66bb6a,
  other: 0x9e9e9e,
}

/** Link colour by the protocols that insist on it. */
export function linkColour(protocols: readonly string[]): number {
  const von = protocols.includes('von')
  const dht = protocols.includes('dht')
  if (von && dht) return 0xffffff
  if (von) return 0x4fc3f7
  if (dht) return 0xffd54f
  return protocols.length > 0 ? 0xba68c8 : 0x757575
}

export const DHT_COLOUR = 0xffd54f

/** A link relayed through a TURN server: it costs the host bandwidth and adds a hop. */
export const RELAY_COLOUR = 0xff5252
/** Links relayed through another peer of the world (a circuit). */
export const PEER_RELAY_COLOUR = 0xffa726
