import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { SILENT_LOG } from '../src/core/env.js'
import type { IceServer } from '../src/platform/ice-servers.js'
import { createNodeEnv } from '../src/platform/node/node-env.js'
import { SignalingClient } from '../src/platform/signaling/signaling-client.js'
import { turnCredential } from './ice.js'
import { startWorldServer } from './world-server.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CERT = join(ROOT, 'signaling', 'fixtures', 'test-cert.pem')
const KEY = join(ROOT, 'signaling', 'fixtures', 'test-key.pem')
const SECRET = 'cli-secret-7d41b0e2c95a'
const env = createNodeEnv({ logLevel: 'silent' })

let dir: string
let ca: Buffer
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2p-cli-'))
  await writeFile(join(dir, 'turn-secret'), `${SECRET}\n`, { mode: 0o600 })
  ca = await readFile(CERT)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** `npm run signaling -- args`, with everything it printed. */
function node(args: string[]): { proc: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'signaling/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return { proc, out: () => out, exited }
}

async function until<T>(get: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const end = performance.now() + timeoutMs
  for (;;) {
    const v = get()
    if (v !== undefined) return v
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function httpsGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')))
    req.end()
  })
}

/** `ws` trusting the test certificate. */
class TestCaWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { ca })
  }
}

async function welcomeIce(url: string): Promise<readonly IceServer[]> {
  let ice: readonly IceServer[] | undefined
  const c = new SignalingClient(
    { keyPair: env.crypto.keyPairFromSeed(env.rng.bytes(32)), crypto: env.crypto, timers: env.timers, rng: env.rng, log: SILENT_LOG, WebSocket: TestCaWebSocket },
    { url, world: 'w', onSignal: () => {}, onIce: (s) => (ice = s) },
  )
  c.start()
  try {
    return await until(() => (c.state === 'joined' ? ice : undefined), 'a welcome')
  } finally {
    c.close()
  }
}

describe('npm run signaling', () => {
  it('serves wss:// and /health over TLS, hands out STUN and TURN, and never prints the secret', async () => {
    const n = node([
      '--port', '0', '--log-level', 'debug', '--stun', 'stun:198.18.0.1:3478', '--turn', 'turn:198.18.0.1:3478?transport=udp',
      '--turn', 'turns:198.18.0.1:5349?transport=tcp', '--turn-secret-file', join(dir, 'turn-secret'), '--turn-ttl', '3600',
      '--tls-cert', CERT, '--tls-key', KEY,
    ])
    try {
      const port = await until(() => {
        const m = /"msg":"listening".*?"port":(\d+)/.exec(n.out())
        return m === null ? undefined : Number(m[1])
      }, 'the listening line')
      const health = await httpsGet(port, '/health')
      expect(health.status).toBe(200)
      expect(JSON.parse(health.body)).toMatchObject({ ok: true, listening: true, stun: 1, turn: 2 })
      expect((await httpsGet(port, '/')).status).toBe(426)
      const ice = await welcomeIce(`wss://127.0.0.1:${port}/`)
      expect(ice[0]).toEqual({ urls: ['stun:198.18.0.1:3478'] })
      const turn = ice[1]!
      expect(turn.urls).toEqual(['turn:198.18.0.1:3478?transport=udp', 'turns:198.18.0.1:5349?transport=tcp'])
      const [expiry, peer] = turn.username!.split(':')
      expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(3590)
      expect(Number(expiry) - Date.now() / 1000).toBeLessThan(3610)
      expect(peer).toMatch(/^[0-9a-f]{64}$/)
      expect(turn.credential).toBe(turnCredential(SECRET, turn.username!))
      n.proc.kill('SIGHUP')
      await until(() => (n.out().includes('TLS certificate reloaded') ? true : undefined), 'the reload line')
    } finally {
      n.proc.kill('SIGTERM')
    }
    expect(await n.exited).toBe(0)
    expect(n.out()).toContain('authenticated')
    // Bound to loopback: every client is this machine, so loopback is exempt from the per-address caps.
    expect(n.out()).toMatch(/"limits":\{"perAddress":16,"authsPerMinute":60,"idleTimeoutMs":120000,"exempt":\["127.0.0.1","::1"\],"trustProxy":\[\],"origins":"any"\}/)
    expect(n.out()).not.toContain(SECRET)
  }, 30_000)

  it('refuses TURN without a secret, a bad URL, half a TLS pair, an unreadable secret file and bad limits, saying why', async () => {
    const cases: [string[], RegExp][] = [
      [['--turn', 'turn:h:3478'], /TURN URLs need a shared secret/],
      [['--stun', 'http://h'], /not a STUN URL/],
      [['--tls-cert', CERT], /--tls-cert and --tls-key go together/],
      [['--turn', 'turn:h:3478', '--turn-secret-file', join(dir, 'missing')], /cannot read --turn-secret-file/],
      [['--ice', 'turn:h:1'], /needs credentials/],
      [['--allow-origin', 'world.example.org'], /--allow-origin world.example.org: not an origin/],
      [['--max-per-address', '0'], /--max-per-address must be an integer in \[1, 1000000\]/],
      [['--trust-proxy', 'proxy.local'], /--trust-proxy proxy.local: not an IP address/],
    ]
    for (const [args, message] of cases) {
      const n = node(['--port', '0', ...args])
      expect(await n.exited).toBe(2)
      expect(n.out()).toMatch(message)
    }
  }, 30_000)
})

describe('npm start over TLS', () => {
  it('serves the page, /health and the node on one https port', async () => {
    const root = join(dir, 'site')
    await mkdir(join(root, 'dist'), { recursive: true })
    await writeFile(join(root, 'dist', 'index.html'), '<!doctype html>world')
    const server = await startWorldServer(SILENT_LOG, { root, tls: { certFile: CERT, keyFile: KEY } })
    try {
      expect(server.url).toBe(`https://127.0.0.1:${server.port}/`)
      expect((await httpsGet(server.port, '/')).body).toContain('world')
      expect(JSON.parse((await httpsGet(server.port, '/health')).body)).toMatchObject({ ok: true, stun: 0, turn: 0 })
      expect(await welcomeIce(`wss://127.0.0.1:${server.port}/`)).toEqual([])
    } finally {
      await server.stop()
    }
  })
})
