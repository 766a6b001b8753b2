/**
 * The browser platform in one import (src/main.ts builds on it): Env, store,
 * WebRTC transport, signaling client, the peer wiring and the plain view.
 * Nothing here may import Node-only code.
 */
export { createBrowserEnv, type BrowserEnvInit } from './browser-env.js'
export { IdbStore } from './idb-store.js'
export { ConsoleLog } from './console-log.js'
export { WebRtcTransport, type WebRtcTransportInit } from '../webrtc/webrtc-transport.js'
export { SignalingClient, type SignalingClientInit } from '../signaling/signaling-client.js'
export { claimTabSlot } from './tab-slot.js'
export { WorldView, type WorldViewElements } from './world-view.js'
export { startNetworkPeer, DEFAULT_WORLD_NAME, type NetworkPeer } from '../network-peer.js'
export { PrefixedStore } from '../prefixed-store.js'
