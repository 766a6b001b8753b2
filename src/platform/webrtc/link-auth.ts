import { equalBytes } from '../../core/bytes.js'
import { decodeValue, encodeValue, isBytes } from '../../core/codec.js'
import type { Crypto, KeyPair } from '../../core/env.js'
import { idToBytes, peerIdFromPublicKey, type PeerId } from '../../core/id.js'

/** Auth messages are tiny; anything larger before the link opens is an attack or a bug. */
export const MAX_AUTH_MESSAGE_BYTES = 512
export const AUTH_NONCE_BYTES = 32

const MAGIC = 'p2p-auth'
const HELLO = 1
const PROOF = 2
const TRANSCRIPT_TAG = 'p2p-world/link-auth/v1'

type AuthMessage = { kind: 'hello'; nonce: Uint8Array } | { kind: 'proof'; key: Uint8Array; sig: Uint8Array }

function decodeAuth(bytes: Uint8Array): AuthMessage | null {
  if (bytes.length > MAX_AUTH_MESSAGE_BYTES) return null
  const v = decodeValue(bytes)
  if (!Array.isArray(v) || v[0] !== MAGIC) return null
  if (v.length === 3 && v[1] === HELLO && isBytes(v[2], AUTH_NONCE_BYTES) && v[2].length === AUTH_NONCE_BYTES) {
    return { kind: 'hello', nonce: v[2] }
  }
  if (v.length === 4 && v[1] === PROOF && isBytes(v[2], 32) && isBytes(v[3], 64)) return { kind: 'proof', key: v[2], sig: v[3] }
  return null
}

/** DTLS fingerprints as this side sees them: its own certificate and the one DTLS accepted from the remote. */
export interface Fingerprints {
  local: string
  remote: string
}

export interface LinkAuthInit {
  localId: PeerId
  remote: PeerId
  initiator: boolean
  /** Fresh random bytes (AUTH_NONCE_BYTES long). */
  nonce: Uint8Array
}

export type AuthStep = { send: Uint8Array[]; open: boolean; error?: undefined } | { error: string }

/**
 * Proves peer ids on a freshly opened data channel, before the link layer sees it.
 * Each side sends a fresh nonce (HELLO), then signs a transcript (PROOF) of: the
 * protocol tag, its role, both peer ids, both nonces, and the DTLS fingerprints
 * of the initiator's and the responder's certificates as it sees them. A peer
 * that relayed the offer and answer (an introducer, the signaling node) and
 * swapped in its own certificates to sit in the middle is caught: the two sides
 * then see different fingerprints and the signatures do not verify. A remote
 * whose key does not hash to the id we dialled is refused.
 */
export class LinkAuth {
  private remoteNonce: Uint8Array | undefined
  private helloSent = false
  private proofSent = false

  constructor(
    private readonly components: { keyPair: KeyPair; crypto: Crypto },
    private readonly init: LinkAuthInit,
  ) {}

  /** Messages to send once the channel is open. */
  start(): Uint8Array[] {
    return this.hello()
  }

  /** Handles one message from the remote; `fingerprints` reads the connection's SDPs. */
  receive(bytes: Uint8Array, fingerprints: () => Fingerprints | null): AuthStep {
    const msg = decodeAuth(bytes)
    if (msg === null) return { error: 'unexpected message before authentication' }
    if (msg.kind === 'hello') {
      if (this.remoteNonce !== undefined) return { error: 'second hello' }
      if (equalBytes(msg.nonce, this.init.nonce)) return { error: 'remote echoed our nonce' }
      this.remoteNonce = msg.nonce
      const fp = fingerprints()
      if (fp === null) return { error: 'no DTLS fingerprint in the session descriptions' }
      const sig = this.components.keyPair.sign(this.transcript(this.init.initiator, fp))
      this.proofSent = true
      return { send: [...this.hello(), encodeValue([MAGIC, PROOF, this.components.keyPair.publicKey, sig])], open: false }
    }
    if (this.remoteNonce === undefined || !this.proofSent) return { error: 'proof before hello' }
    if (peerIdFromPublicKey(this.components.crypto, msg.key) !== this.init.remote) {
      return { error: 'remote key does not match the peer id dialled (spoofed id)' }
    }
    const fp = fingerprints()
    if (fp === null) return { error: 'no DTLS fingerprint in the session descriptions' }
    if (!this.components.crypto.verify(msg.key, this.transcript(!this.init.initiator, fp), msg.sig)) {
      return { error: 'signature does not verify (wrong key, or a relay in the middle of DTLS)' }
    }
    return { send: [], open: true }
  }

  private hello(): Uint8Array[] {
    if (this.helloSent) return []
    this.helloSent = true
    return [encodeValue([MAGIC, HELLO, this.init.nonce])]
  }

  /** What the side in role `asInitiator` signs; both sides build it from their own view. */
  private transcript(asInitiator: boolean, fp: Fingerprints): Uint8Array {
    const { localId, remote, initiator, nonce } = this.init
    const remoteNonce = this.remoteNonce!
    const [iId, rId] = initiator ? [localId, remote] : [remote, localId]
    const [iNonce, rNonce] = initiator ? [nonce, remoteNonce] : [remoteNonce, nonce]
    const [iFp, rFp] = initiator ? [fp.local, fp.remote] : [fp.remote, fp.local]
    return encodeValue([TRANSCRIPT_TAG, asInitiator ? 'initiator' : 'responder', idToBytes(iId), idToBytes(rId), iNonce, rNonce, iFp, rFp])
  }
}
