import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { Log } from '../src/core/env.js'

/** A certificate chain and its key, PEM files (Let's Encrypt's fullchain.pem and privkey.pem). */
export interface TlsFiles {
  certFile: string
  keyFile: string
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Reads both PEM files; throws an Error naming the file that cannot be read. */
export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new Error(`cannot read ${flag} ${file}: ${(err as Error).message}`)
    }
  }
  return { cert: read(files.certFile, '--tls-cert'), key: read(files.keyFile, '--tls-key') }
}

/**
 * The HTTP(S) server in front of the node: TLS when `tls` is given (`wss://`,
 * `https://`), plain otherwise. With TLS, SIGHUP reloads the certificate and key
 * from their files (after a renewal) without dropping a connection.
 */
export function createFront(tls: TlsFiles | undefined, handler: Handler, log: Log): HttpServer | HttpsServer {
  if (tls === undefined) return createHttpServer(handler)
  const server = createHttpsServer(readTls(tls), handler)
  const reload = (): void => {
    try {
      server.setSecureContext(readTls(tls))
      log.info('TLS certificate reloaded', { cert: tls.certFile })
    } catch (err) {
      log.error('TLS certificate not reloaded; keeping the old one', { err: (err as Error).message })
    }
  }
  process.on('SIGHUP', reload)
  server.once('close', () => process.off('SIGHUP', reload))
  return server
}

/** Answers GET /health with `health()` as JSON (200 when ok, else 503) and hands every other request to `next`. */
export function withHealth(health: () => { ok: boolean } & Record<string, unknown>, next: Handler): Handler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/health') return next(req, res)
    const h = health()
    res.writeHead(h.ok ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(h))
  }
}

/** What a standalone node answers to plain HTTP requests other than /health. */
export function nodeBanner(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' })
  res.end('p2p world signaling node: connect with a WebSocket (the game page does); GET /health for its state\n')
}
