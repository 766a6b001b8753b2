import { fuzzSuite } from './fuzz-suite.js'
import { APP_TARGETS } from './targets/index.js'

fuzzSuite('fuzzing the DHT, service and platform decoders', APP_TARGETS)
