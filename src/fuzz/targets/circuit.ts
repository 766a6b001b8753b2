import { equalBytes } from '../../core/bytes.js'
import { peerIdFromPublicKey } from '../../core/id.js'
import { CircuitAuth, type CircuitKeys, type OpenResult } from '../../link/circuit-auth.js'
import { FakeCrypto } from '../fake-crypto.js'
import type { FuzzRng } from '../fuzz-rng.js'
import { fuzzCase, need, type FuzzTarget } from '../target.js'

const crypto = new FakeCrypto()

export function circuitKeys(r: FuzzRng, seed: number): CircuitKeys {
  const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(seed))
  return { keyPair, crypto, rng: { bytes: (n) => r.bytes(n) }, localId: peerIdFromPublicKey(crypto, keyPair.publicKey) }
}

type HelloIn = { bytes: Uint8Array; valid: boolean }

/**
 * A circuit's HELLO, to either end (circuit-auth.ts onHello). Each X25519
 * step costs about a millisecond here, so the unchanged HELLO that completes
 * a handshake is sent one time in five hundred rather than one in twelve.
 */
export const circuitHelloTarget: FuzzTarget = {
  name: 'circuit-hello',
  what: 'src/link/circuit-auth.ts CircuitAuth.onHello',
  create(gen) {
    const r = gen.r
    const me = circuitKeys(r, 1)
    const other = circuitKeys(r, 2)
    let opener = false
    let local = new CircuitAuth(me, other.localId, opener)
    let valid: Uint8Array = new Uint8Array(0)
    /** A fresh pair: our side (taking the other's HELLO) and the HELLO that completes it. */
    const reset = (): void => {
      opener = r.chance(0.5)
      local = new CircuitAuth(me, other.localId, opener)
      const remote = new CircuitAuth(other, me.localId, !opener)
      if (!opener) valid = remote.hello()
      else {
        remote.onHello(local.hello())
        valid = remote.hello()
      }
    }
    reset()
    return fuzzCase<HelloIn, boolean>({
      next: () => {
        if (r.chance(0.002)) return { bytes: valid, valid: true }
        let bytes = gen.bytes(() => valid)
        for (let i = 0; i < 3 && equalBytes(bytes, valid); i++) bytes = gen.bytes(() => valid)
        return { bytes, valid: equalBytes(bytes, valid) }
      },
      run: (input) => local.onHello(input.bytes),
      accepted: (ok) => ok,
      check: ({ valid: wasValid }, ok) => {
        if (wasValid) need(ok === true, 'a valid HELLO refused: rejected ones before it spoiled the circuit')
        else need(ok === false && !local.ready, 'a HELLO nobody signed was accepted')
        if (ok) reset()
      },
    })
  },
}

type DataIn = { bytes: Uint8Array; payload?: Uint8Array }

/**
 * DATA frames on an authenticated circuit (CircuitAuth.open): frames the
 * other end sealed, delivered once each and in order, must open to what was
 * sealed whatever garbage came between; nothing else may open.
 */
export const circuitDataTarget: FuzzTarget = {
  name: 'circuit-data',
  what: 'src/link/circuit-auth.ts CircuitAuth.open',
  create(gen) {
    const r = gen.r
    const a = circuitKeys(r, 3)
    const b = circuitKeys(r, 4)
    const sender = new CircuitAuth(a, b.localId, true)
    const receiver = new CircuitAuth(b, a.localId, false)
    receiver.onHello(sender.hello())
    sender.onHello(receiver.hello())
    const delivered: Uint8Array[] = []
    const seal = (): DataIn => {
      const payload = r.bytes(r.size(2048))
      const bytes = sender.seal(payload, r.int(3))
      delivered.push(bytes)
      if (delivered.length > 32) delivered.shift()
      return { bytes, payload }
    }
    receiver.open(seal().bytes) // something delivered to replay and mutate
    return fuzzCase<DataIn, OpenResult>({
      next: () => (r.chance(0.15) ? seal() : { bytes: gen.bytes(() => r.pick(delivered)) }),
      run: (input) => receiver.open(input.bytes),
      accepted: (out) => out instanceof Uint8Array,
      check: ({ payload }, out) => {
        if (payload !== undefined) {
          need(out instanceof Uint8Array && equalBytes(out, payload), `a sealed frame did not open (${String(out)}): rejected frames before it changed the circuit`)
        } else need(!(out instanceof Uint8Array), 'a frame nobody sealed (or sealed and already delivered) opened')
      },
    })
  },
}
