import { join } from 'node:path'
import type { Log } from '../src/core/env.js'
import { NodeCrypto } from '../src/platform/node/node-crypto.js'
import { isLoopbackHost, LOOPBACK_ADDRESSES } from './client-address.js'
import { SignalingServer, type SignalingServerInit } from './server.js'
import { createFront, withHealth, type TlsFiles } from './http-front.js'
import { staticFiles } from './static-files.js'

export interface WorldServerInit {
  /** The repository root: the client is served from `<root>/dist` (build it first). */
  root: string
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 0 */
  port?: number
  /**
   * Options of the embedded signaling node. Unless they say otherwise, loopback
   * is exempt from the per-address limits when `host` is a loopback address:
   * then every client is this machine (tabs, bots, the e2e suite).
   * @default {}
   */
  signaling?: Omit<SignalingServerInit, 'server' | 'port' | 'host'>
  /** Serve HTTPS and WSS with this certificate. @default undefined (plain HTTP) */
  tls?: TlsFiles
}

/** The client and a signaling node on one HTTP port: what `npm start`, the bots and the e2e suite run. */
export interface WorldServer {
  readonly host: string
  readonly port: number
  /** http(s)://host:port/ (the page reaches the node at ws(s)://host:port/). */
  readonly url: string
  readonly signaling: SignalingServer
  stop(): Promise<void>
}

export async function startWorldServer(log: Log, init: WorldServerInit): Promise<WorldServer> {
  const host = init.host ?? '127.0.0.1'
  const box: { signaling?: SignalingServer } = {}
  const health = (): ReturnType<SignalingServer['health']> | { ok: false } => box.signaling?.health() ?? { ok: false }
  const http = createFront(init.tls, withHealth(health, staticFiles(join(init.root, 'dist'))), log)
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(init.port ?? 0, host, () => resolve())
  })
  const exemptAddresses = init.signaling?.exemptAddresses ?? (isLoopbackHost(host) ? LOOPBACK_ADDRESSES : [])
  const signaling = new SignalingServer({ crypto: new NodeCrypto(), log }, { ...init.signaling, exemptAddresses, server: http })
  box.signaling = signaling
  const port = await signaling.start()
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return {
    host,
    port,
    url: `${init.tls === undefined ? 'http' : 'https'}://${shown}:${port}/`,
    signaling,
    async stop() {
      await signaling.stop()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
