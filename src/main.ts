import { peerIdFromPublicKey } from './core/id.js'
import { BrowserRng } from './platform/browser/browser-rng.js'
import { NobleCrypto } from './platform/browser/noble-crypto.js'

// Browser entry. The world client (Phaser scenes, stores, WebRTC peer) lands with
// the game and network issues; until then the page proves the protocol core runs
// here: it makes an Ed25519 identity and shows the peer id derived from it.
const crypto = new NobleCrypto()
const keyPair = crypto.keyPairFromSeed(new BrowserRng().bytes(32))
const id = peerIdFromPublicKey(crypto, keyPair.publicKey)
const status = document.getElementById('status')
if (status !== null) {
  status.innerHTML = `This browser's peer id: <code>${id.slice(0, 16)}…</code><br>` +
    'The world client is not built yet. Run <code>npm start</code> in a terminal to watch a simulated world.'
}
