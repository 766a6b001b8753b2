import { decodeFrame, decodeValue, frameHeader } from '../../core/codec.js'
import { parsePeerId } from '../../core/id.js'
import { needCodecBounds, isHexId, isUintMax } from '../bounds.js'
import { FakeCrypto } from '../fake-crypto.js'
import { anyFrame, peerId } from '../seeds.js'
import { bytesTarget, fuzzCase, need, valueTarget, type FuzzTarget } from '../target.js'

const keyPair = new FakeCrypto().keyPairFromSeed(new Uint8Array(32).fill(7))

export const coreTargets: FuzzTarget[] = [
  {
    name: 'codec-value',
    what: 'src/core/codec.ts decodeValue',
    create(gen) {
      const seed = gen.pool(() => anyFrame(gen.r, keyPair))
      return fuzzCase<Uint8Array, unknown>({
        next: () => gen.bytes(seed),
        run: (input) => decodeValue(input),
        accepted: (out) => out !== undefined,
        check: (_input, out) => (out === undefined ? undefined : needCodecBounds(out)),
      })
    },
  },
  bytesTarget(
    'codec-frame',
    'src/core/codec.ts decodeFrame, frameHeader',
    (gen) => () => anyFrame(gen.r, keyPair), // encoded as encodeFrame does: [proto, type, payload]
    decodeFrame,
    (frame, input) => {
      need(isUintMax(frame.proto, 255) && isUintMax(frame.type, 255), 'protocol and type in 0..255')
      needCodecBounds(frame.payload)
      const head = frameHeader(input)
      need(head !== null && head.proto === frame.proto && head.type === frame.type, 'frameHeader agrees with decodeFrame')
    },
  ),
  valueTarget(
    'peer-id',
    'src/core/id.ts parsePeerId',
    (gen) => () => peerId(gen.r),
    parsePeerId,
    (id, input) => need(isHexId(id) && id === input, '64 lower-case hex characters, as given'),
  ),
]
