import { fuzzSuite } from './fuzz-suite.js'
import { WIRE_TARGETS } from './targets/index.js'

fuzzSuite('fuzzing the codec, link layer and overlay decoders', WIRE_TARGETS)
