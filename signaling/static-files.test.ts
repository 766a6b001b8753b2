import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { staticFiles } from './static-files.js'

/** A raw request (no URL normalisation on the client side, unlike fetch). */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; cache: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), cache: String(res.headers['cache-control']), body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('static files of npm start', () => {
  let dir: string
  let server: Server
  let port: number

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2p-static-'))
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true })
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html>hi')
    await writeFile(join(dir, 'dist', 'assets', 'main-abc.js'), 'console.log(1)')
    await writeFile(join(dir, 'secret.txt'), 'no')
    server = createServer(staticFiles(join(dir, 'dist')))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    await new Promise((r) => server.close(r))
    await rm(dir, { recursive: true, force: true })
  })

  it('serves the page and hashed assets with types and caching', async () => {
    const page = await get(port, '/')
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache', body: '<!doctype html>hi' })
    const js = await get(port, '/assets/main-abc.js?v=1')
    expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'public, max-age=31536000, immutable' })
    expect((await get(port, '/', 'HEAD')).body).toBe('')
  })

  it('never reads outside its root and refuses other methods', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/%00', '/%zz', '/nope.js', '/assets']) {
      expect((await get(port, path)).status, path).toBeGreaterThanOrEqual(400)
    }
    expect((await get(port, '/', 'POST')).status).toBe(405)
  })
})
