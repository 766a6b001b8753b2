import { x25519 } from '@noble/curves/ed25519.js'
import { concatBytes, equalBytes, utf8 } from '../core/bytes.js'
import type { Crypto, KeyPair, Rng } from '../core/env.js'
import { idToBytes, peerIdFromPublicKey, type PeerId } from '../core/id.js'

/**
 * End-to-end authentication of a link relayed through another peer (a
 * circuit). The relay carries opaque bytes; the two ends run a signed
 * ephemeral Diffie-Hellman over them and MAC every frame, so the relay cannot
 * pose as either end, inject, alter or replay a frame: dropping or delaying
 * is all it can do. (The relay can read frames: they are authenticated, not
 * encrypted; see docs/SECURITY.md.)
 *
 * HELLO (129 bytes): 0, Ed25519 public key (32), X25519 ephemeral key (32),
 * signature (64). The opener signs (label, 1, opener id, responder id, its
 * ephemeral); the responder signs (label, 2, responder id, opener id, both
 * ephemerals), which binds its answer to this opener's fresh key. A replayed
 * HELLO fails at the first MAC: the replayer lacks the ephemeral secret.
 *
 * DATA: 1, class, sequence number (u32, big-endian), HMAC-SHA256 tag
 * truncated to 16 bytes over (class, sequence, payload), payload. Each
 * direction has its own key (derived from the DH secret, both ephemerals and
 * both ids) and a sequence per class: the relay and the links on the way
 * keep each class in order but let HIGH pass LOW, so a receiver accepts only
 * increasing numbers within a class (a gap is a frame the relay dropped).
 */

const LABEL = utf8('p2p-world circuit v1')
export const HELLO_BYTES = 1 + 32 + 32 + 64
const TAG_BYTES = 16
export const DATA_OVERHEAD = 1 + 1 + 4 + TAG_BYTES
const CLASSES = 3
const MAX_SEQ = 0xffffffff

export interface CircuitKeys {
  readonly keyPair: KeyPair
  readonly crypto: Crypto
  readonly rng: Pick<Rng, 'bytes'>
  readonly localId: PeerId
}

export type OpenResult = Uint8Array | 'tampered' | 'replayed' | 'not-ready'

export class CircuitAuth {
  /** Our ephemeral X25519 key, made when first needed: a responder checks the opener's signed HELLO first (a HELLO costs its sender a signature, its receiver no key until it verifies). */
  private eph: { secret: Uint8Array; public: Uint8Array } | undefined
  private remoteEph: Uint8Array | undefined
  private sendKey: Hmac | undefined
  private recvKey: Hmac | undefined
  private readonly sendSeq = new Array<number>(CLASSES).fill(0)
  private readonly recvSeq = new Array<number>(CLASSES).fill(0)

  constructor(
    private readonly keys: CircuitKeys,
    readonly remote: PeerId,
    /** The end that asked the relay for the circuit (it sends the first HELLO). */
    readonly opener: boolean,
  ) {}

  private get ephSecret(): Uint8Array {
    return this.ephemeral().secret
  }

  private get ephPublic(): Uint8Array {
    return this.ephemeral().public
  }

  private ephemeral(): { secret: Uint8Array; public: Uint8Array } {
    if (this.eph === undefined) {
      const secret = this.keys.rng.bytes(32)
      this.eph = { secret, public: x25519.getPublicKey(secret) }
    }
    return this.eph
  }

  get ready(): boolean {
    return this.sendKey !== undefined
  }

  /** Our HELLO: the opener's first message, or the responder's answer once it read the opener's. */
  hello(): Uint8Array {
    const msg = this.opener ? this.signed(1, this.keys.localId, this.remote, this.ephPublic) : this.signed(2, this.keys.localId, this.remote, this.remoteEph!, this.ephPublic)
    return concatBytes([Uint8Array.of(0), this.keys.keyPair.publicKey, this.ephPublic, this.keys.keyPair.sign(msg)])
  }

  /** Reads the other end's HELLO: false unless it is well formed, from `remote`'s key, and signed by it for this circuit. */
  onHello(bytes: Uint8Array): boolean {
    if (bytes.length !== HELLO_BYTES || bytes[0] !== 0 || this.remoteEph !== undefined) return false
    const publicKey = bytes.subarray(1, 33)
    const eph = bytes.subarray(33, 65)
    const sig = bytes.subarray(65)
    if (peerIdFromPublicKey(this.keys.crypto, publicKey) !== this.remote) return false
    const msg = this.opener ? this.signed(2, this.remote, this.keys.localId, this.ephPublic, eph) : this.signed(1, this.remote, this.keys.localId, eph)
    if (!this.keys.crypto.verify(publicKey, msg, sig)) return false
    let secret: Uint8Array
    try {
      secret = x25519.getSharedSecret(this.ephSecret, eph)
    } catch {
      return false // a low-order point
    }
    this.remoteEph = eph.slice()
    const [openerEph, responderEph] = this.opener ? [this.ephPublic, this.remoteEph] : [this.remoteEph, this.ephPublic]
    const [openerId, responderId] = this.opener ? [this.keys.localId, this.remote] : [this.remote, this.keys.localId]
    const base = this.keys.crypto.sha256(concatBytes([LABEL, secret, openerEph, responderEph, idToBytes(openerId), idToBytes(responderId)]))
    const toResponder = new Hmac(this.keys.crypto, this.keys.crypto.sha256(concatBytes([base, Uint8Array.of(1)])))
    const toOpener = new Hmac(this.keys.crypto, this.keys.crypto.sha256(concatBytes([base, Uint8Array.of(2)])))
    this.sendKey = this.opener ? toResponder : toOpener
    this.recvKey = this.opener ? toOpener : toResponder
    return true
  }

  /** A DATA frame carrying `payload` in class `cls` (0..2). Only once ready. */
  seal(payload: Uint8Array, cls: number): Uint8Array {
    if (this.sendKey === undefined) throw new Error('invariant: circuit not authenticated yet')
    if (this.sendSeq[cls]! >= MAX_SEQ) throw new Error('invariant: circuit sequence exhausted')
    const seq = ++this.sendSeq[cls]!
    const out = new Uint8Array(DATA_OVERHEAD + payload.length)
    out[0] = 1
    out[1] = cls
    new DataView(out.buffer).setUint32(2, seq)
    out.set(payload, DATA_OVERHEAD)
    out.set(this.sendKey.tag(out.subarray(1, 6), payload), 6)
    return out
  }

  /** The payload of a DATA frame, or why it is refused. */
  open(bytes: Uint8Array): OpenResult {
    if (this.recvKey === undefined) return 'not-ready'
    if (bytes.length < DATA_OVERHEAD || bytes[0] !== 1 || bytes[1]! >= CLASSES) return 'tampered'
    const cls = bytes[1]!
    const seq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2)
    const payload = bytes.subarray(DATA_OVERHEAD)
    if (!equalBytes(this.recvKey.tag(bytes.subarray(1, 6), payload), bytes.subarray(6, DATA_OVERHEAD))) return 'tampered'
    if (seq <= this.recvSeq[cls]!) return 'replayed'
    this.recvSeq[cls] = seq
    return payload
  }

  private signed(role: number, a: PeerId, b: PeerId, ...ephs: Uint8Array[]): Uint8Array {
    return concatBytes([LABEL, Uint8Array.of(role), idToBytes(a), idToBytes(b), ...ephs])
  }
}

/** HMAC-SHA256 (RFC 2104) on the platform's SHA-256, truncated to 16 bytes. */
class Hmac {
  private readonly inner: Uint8Array
  private readonly outer: Uint8Array

  constructor(
    private readonly crypto: Crypto,
    key: Uint8Array,
  ) {
    const block = new Uint8Array(64)
    block.set(key.length > 64 ? crypto.sha256(key) : key)
    this.inner = block.map((b) => b ^ 0x36)
    this.outer = block.map((b) => b ^ 0x5c)
  }

  tag(head: Uint8Array, body: Uint8Array): Uint8Array {
    const h = this.crypto.sha256Hasher()
    h.update(this.inner)
    h.update(head)
    h.update(body)
    const o = this.crypto.sha256Hasher()
    o.update(this.outer)
    o.update(h.digest())
    return o.digest().subarray(0, TAG_BYTES)
  }
}
