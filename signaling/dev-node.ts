import type { Plugin } from 'vite'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { JsonLog } from '../src/platform/json-log.js'
import { LOOPBACK_ADDRESSES } from './client-address.js'
import { SignalingServer } from './server.js'

/** The dev server's node port; P2P_DEV_SIGNALING_PORT changes it. */
export const DEV_SIGNALING_PORT = 8787

/**
 * `npm run dev`: a signaling node beside Vite's dev server, so the page works
 * out of the box. It listens on its own port (Vite's HMR socket owns upgrades
 * on Vite's), and the page learns where from a `<meta name="p2p-signaling">`
 * tag the plugin adds; a port in use is said and left to whatever listens there.
 * Imports stay light (no anchors, no WebRTC): Vite loads this with its config.
 */
export function devSignalingNode(): Plugin {
  const port = Number(process.env.P2P_DEV_SIGNALING_PORT ?? DEV_SIGNALING_PORT)
  return {
    name: 'p2p-world-dev-signaling',
    apply: 'serve',
    async configureServer(server) {
      const exposed = server.config.server.host === true || server.config.server.host === '0.0.0.0'
      const node = new SignalingServer({ crypto: new NodeCrypto(), log: new JsonLog({ write: (line) => process.stdout.write(`${line}\n`) }, { level: 'warn', fields: { name: 'signaling' } }) }, { port, host: exposed ? '0.0.0.0' : '127.0.0.1', exemptAddresses: LOOPBACK_ADDRESSES })
      try {
        await node.start()
        server.config.logger.info(`  signaling node: ws://${exposed ? '<this host>' : '127.0.0.1'}:${port}/ (the page finds it by itself)`)
        server.httpServer?.once('close', () => void node.stop())
      } catch (err) {
        server.config.logger.warn(`  signaling node: port ${port} is taken (${(err as Error).message}); the page dials whatever listens there`)
      }
    },
    transformIndexHtml() {
      return [{ tag: 'meta', attrs: { name: 'p2p-signaling', content: `ws://{hostname}:${port}/` }, injectTo: 'head' }]
    },
  }
}
