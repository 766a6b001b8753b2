/**
 * The browser platform in one import (the peer wiring in src/main.ts builds on
 * it): Env, WebRTC transport and signaling client. Nothing here may import
 * Node-only code. Until main.ts imports it, vite.config.ts builds it as a second
 * entry so a broken browser bundle of simple-peer fails `vite build`.
 */
export { createBrowserEnv, type BrowserEnvInit } from './browser-env.js'
export { IdbStore } from './idb-store.js'
export { ConsoleLog } from './console-log.js'
export { WebRtcTransport, type WebRtcTransportInit } from '../webrtc/webrtc-transport.js'
export { SignalingClient, type SignalingClientInit } from '../signaling/signaling-client.js'
