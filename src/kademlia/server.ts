import { toHex } from '../core/bytes.js'
import { ID_BYTES, idToBytes, type PeerId } from '../core/id.js'
import type { Kademlia } from './kademlia.js'
import { EMPTY_RESPONSE, KadMsg, Status, type Request, type Response } from './messages.js'
import type { StoreVerdict } from './record-store.js'
import { RecordKind } from './records.js'

const STATUS_OF: Record<StoreVerdict | 'invalid', number> = {
  stored: Status.OK,
  refreshed: Status.OK,
  stale: Status.STALE,
  conflict: Status.CONFLICT,
  invalid: Status.INVALID,
  'too-large': Status.TOO_LARGE,
  full: Status.FULL,
  'origin-full': Status.FULL,
}

/** Answers one request from a verified peer. Never throws: the request was validated by its decoder. */
export function answerRequest(dht: Kademlia, from: PeerId, req: Request): Response {
  const now = dht.env.clock.now()
  switch (req.op) {
    case KadMsg.PING:
      return EMPTY_RESPONSE
    case KadMsg.FIND_NODE:
      return { ...EMPTY_RESPONSE, contacts: closestBytes(dht, req.target, from) }
    case KadMsg.FIND_VALUE: {
      const keyHex = toHex(req.key)
      const held = dht.store.get(keyHex, now)
      const providers = dht.store.providersOf(keyHex, now).slice(0, dht.k).map(idToBytes)
      return { ...EMPTY_RESPONSE, contacts: closestBytes(dht, req.key, from), record: held?.record ?? null, providers }
    }
    case KadMsg.STORE: {
      const v = dht.storeLocal(req.key, req.record, from)
      const held = v === 'stale' ? dht.store.get(toHex(req.key), now)?.record : undefined
      return { ...EMPTY_RESPONSE, status: STATUS_OF[v], seq: held?.kind === RecordKind.MUTABLE ? held.seq : null }
    }
    case KadMsg.KEEP:
      return { ...EMPTY_RESPONSE, status: dht.keeper.onKeep(from, req.keep) }
    case KadMsg.ADD_PROVIDER: {
      const v = dht.store.addProvider(toHex(req.key), from, now)
      return { ...EMPTY_RESPONSE, status: v === 'full' ? Status.FULL : Status.OK }
    }
  }
}

/** Our k closest contacts to `target` other than the asker, as concatenated ids. Each holds an open link, so we can introduce the asker. */
function closestBytes(dht: Kademlia, target: Uint8Array, exclude: PeerId): Uint8Array {
  const closest = dht.table.closest(target, dht.k, exclude)
  const out = new Uint8Array(closest.length * ID_BYTES)
  for (let i = 0; i < closest.length; i++) out.set(closest[i]!.bytes, i * ID_BYTES)
  return out
}
