import { decodeValue, encodeValue, isBytes, isUint } from '../core/codec.js'
import { ID_BYTES } from '../core/id.js'
import { decodeRecord, encodeRecord, type DhtRecord } from './records.js'

/**
 * Kademlia frames (protocol 2). The frame type is the operation; the payload is
 * one msgpack binary holding the message, so the DHT knows its exact byte cost
 * and caps a message before decoding it.
 *
 * request:  [rid, publicKey | null, ...args]
 *   PING []   FIND_NODE [target]   FIND_VALUE [key]   STORE [key, record]   ADD_PROVIDER [key]
 *   KEEP [0 | 1]   ("my routing table needs this link": answered OK when honoured, FULL when not)
 * response: [rid, publicKey | null, status, contacts, record | null, providers, seq | null]
 *   contacts: one binary of concatenated 32-byte ids (compact, and one allocation to decode)
 *
 * `publicKey` (32 bytes) rides on the first message each side sends on a link;
 * the receiver checks SHA-256(publicKey) = the link's peer id before trusting it.
 */
export const KadMsg = { PING: 1, FIND_NODE: 2, FIND_VALUE: 3, STORE: 4, ADD_PROVIDER: 5, KEEP: 6, RESPONSE: 8 } as const
export type KadOp = (typeof KadMsg)[Exclude<keyof typeof KadMsg, 'RESPONSE'>]

export const Status = {
  OK: 0,
  /** STORE: lower seq than held; `seq` carries the held one. */
  STALE: 1,
  /** STORE: same seq, different value. */
  CONFLICT: 2,
  /** STORE: bad signature or key binding. */
  INVALID: 3,
  TOO_LARGE: 4,
  /** STORE: the storer is at a bound. */
  FULL: 5,
  /** We have not seen the sender's public key on this link. */
  NEED_KEY: 6,
} as const

/** Largest DHT message accepted: a 16 KiB record plus its fields and 20 contacts. */
export const MAX_KAD_MESSAGE_BYTES = 24 * 1024
/** Most contacts or providers read from one response. */
export const MAX_LIST = 32

export type Request =
  | { readonly op: typeof KadMsg.PING }
  | { readonly op: typeof KadMsg.FIND_NODE; readonly target: Uint8Array }
  | { readonly op: typeof KadMsg.FIND_VALUE; readonly key: Uint8Array }
  | { readonly op: typeof KadMsg.STORE; readonly key: Uint8Array; readonly record: DhtRecord }
  | { readonly op: typeof KadMsg.ADD_PROVIDER; readonly key: Uint8Array }
  | { readonly op: typeof KadMsg.KEEP; readonly keep: boolean }

export interface Response {
  readonly status: number
  /** Concatenated 32-byte ids, closest first. */
  readonly contacts: Uint8Array
  readonly record: DhtRecord | null
  readonly providers: readonly Uint8Array[]
  readonly seq: number | null
}

export interface Envelope<T> {
  readonly rid: number
  readonly publicKey: Uint8Array | null
  readonly body: T
}

export const EMPTY_RESPONSE: Response = { status: Status.OK, contacts: new Uint8Array(0), record: null, providers: [], seq: null }

export function encodeRequest(rid: number, publicKey: Uint8Array | null, req: Request): Uint8Array {
  switch (req.op) {
    case KadMsg.PING:
      return encodeValue([rid, publicKey])
    case KadMsg.FIND_NODE:
      return encodeValue([rid, publicKey, req.target])
    case KadMsg.FIND_VALUE:
    case KadMsg.ADD_PROVIDER:
      return encodeValue([rid, publicKey, req.key])
    case KadMsg.STORE:
      return encodeValue([rid, publicKey, req.key, encodeRecord(req.record)])
    case KadMsg.KEEP:
      return encodeValue([rid, publicKey, req.keep ? 1 : 0])
  }
}

export function encodeResponse(rid: number, publicKey: Uint8Array | null, res: Response): Uint8Array {
  const record = res.record === null ? null : encodeRecord(res.record)
  return encodeValue([rid, publicKey, res.status, res.contacts, record, res.providers, res.seq])
}

/** Decodes the head shared by every message; null when malformed. */
function head(payload: unknown, minLength: number): { v: unknown[]; rid: number; publicKey: Uint8Array | null } | null {
  if (!isBytes(payload, MAX_KAD_MESSAGE_BYTES)) return null
  const v = decodeValue(payload)
  if (!Array.isArray(v) || v.length < minLength) return null
  const [rid, publicKey] = v as unknown[]
  if (!isUint(rid, 0xffffffff)) return null
  if (publicKey !== null && !(isBytes(publicKey, 32) && publicKey.length === 32)) return null
  return { v, rid, publicKey: publicKey as Uint8Array | null }
}

function isId(v: unknown): v is Uint8Array {
  return isBytes(v, ID_BYTES) && v.length === ID_BYTES
}

export function decodeRequest(op: number, payload: unknown): Envelope<Request> | null {
  switch (op) {
    case KadMsg.PING: {
      const h = head(payload, 2)
      return h === null || h.v.length !== 2 ? null : { rid: h.rid, publicKey: h.publicKey, body: { op } }
    }
    case KadMsg.FIND_NODE:
    case KadMsg.FIND_VALUE:
    case KadMsg.ADD_PROVIDER: {
      const h = head(payload, 3)
      if (h === null || h.v.length !== 3 || !isId(h.v[2])) return null
      const body: Request = op === KadMsg.FIND_NODE ? { op, target: h.v[2] } : { op, key: h.v[2] }
      return { rid: h.rid, publicKey: h.publicKey, body }
    }
    case KadMsg.STORE: {
      const h = head(payload, 4)
      if (h === null || h.v.length !== 4 || !isId(h.v[2])) return null
      const record = decodeRecord(h.v[3])
      return record === null ? null : { rid: h.rid, publicKey: h.publicKey, body: { op, key: h.v[2], record } }
    }
    case KadMsg.KEEP: {
      const h = head(payload, 3)
      if (h === null || h.v.length !== 3 || (h.v[2] !== 0 && h.v[2] !== 1)) return null
      return { rid: h.rid, publicKey: h.publicKey, body: { op, keep: h.v[2] === 1 } }
    }
    default:
      return null
  }
}

export function decodeResponse(payload: unknown): Envelope<Response> | null {
  const h = head(payload, 7)
  if (h === null || h.v.length !== 7) return null
  const [, , status, contacts, record, providers, seq] = h.v
  if (!isUint(status, 255) || (seq !== null && !isUint(seq))) return null
  const ids = (list: unknown): Uint8Array[] | null =>
    Array.isArray(list) && list.length <= MAX_LIST && list.every(isId) ? (list as Uint8Array[]) : null
  if (!isBytes(contacts, MAX_LIST * ID_BYTES) || contacts.length % ID_BYTES !== 0) return null
  const c = contacts
  const p = ids(providers)
  if (p === null) return null
  let rec: DhtRecord | null = null
  if (record !== null) {
    rec = decodeRecord(record)
    if (rec === null) return null
  }
  return { rid: h.rid, publicKey: h.publicKey, body: { status, contacts: c, record: rec, providers: p, seq: seq as number | null } }
}
