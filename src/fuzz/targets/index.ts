import type { FuzzTarget } from '../target.js'
import { circuitDataTarget, circuitHelloTarget } from './circuit.js'
import { coreTargets } from './core.js'
import { kademliaTargets } from './kademlia.js'
import { linkTargets } from './link.js'
import { platformTargets } from './platform.js'
import { relayTarget } from './relay.js'
import { servicesTargets } from './services.js'
import { vonTargets } from './von.js'

/** Codec, link layer and overlay: one test file (vitest runs the two in parallel). */
export const WIRE_TARGETS: readonly FuzzTarget[] = [...coreTargets, ...linkTargets, circuitHelloTarget, circuitDataTarget, relayTarget, ...vonTargets]

/** DHT, services and what the platform parses (signaling, WebRTC, link authentication). */
export const APP_TARGETS: readonly FuzzTarget[] = [...kademliaTargets, ...servicesTargets, ...platformTargets]

/** Every decoder of remote input the fuzzer knows, in layer order. */
export const TARGETS: readonly FuzzTarget[] = [...WIRE_TARGETS, ...APP_TARGETS]
