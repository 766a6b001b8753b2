import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { TURNSERVER_TEMPLATE } from './coturn.js'
import { expectation } from './expectations.js'
import { UNIT_FILE, unitCommand } from './lab-world.js'

describe('the files docs/deploy.md installs, as the NAT lab runs them', () => {
  it('the unit runs npm start\'s server with TLS, STUN, TURN from a secret file and anchors; the lab swaps in its own names', () => {
    const args = unitCommand(readFileSync(UNIT_FILE, 'utf8'), { ip: '198.18.0.1', cert: '/lab/c.pem', key: '/lab/k.pem', secretFile: '/lab/s', dataDir: '/lab/d' })
    expect(args.slice(0, 4)).toEqual([process.execPath, '--import', 'tsx', 'signaling/start.ts'])
    const flag = (name: string): string[] => args.flatMap((a, i) => (a === name ? [args[i + 1]!] : []))
    expect(flag('--tls-cert')).toEqual(['/lab/c.pem'])
    expect(flag('--tls-key')).toEqual(['/lab/k.pem'])
    expect(flag('--stun')).toEqual(['stun:198.18.0.1:3478'])
    expect(flag('--turn')).toEqual(['turn:198.18.0.1:3478?transport=udp', 'turns:198.18.0.1:5349?transport=tcp'])
    expect(flag('--turn-secret-file')).toEqual(['/lab/s'])
    expect(flag('--data')).toEqual(['/lab/d'])
    expect(args.join(' ')).not.toMatch(/example\.org|\/etc\/p2p-world|\/var\/lib/)
  })

  it('coturn\'s file has exactly the placeholders the guide names, ephemeral credentials and a deny list', () => {
    const conf = readFileSync(TURNSERVER_TEMPLATE, 'utf8')
    expect(new Set(conf.match(/@[A-Z]+@/g))).toEqual(new Set(['@SECRET@', '@REALM@', '@CERT@', '@KEY@']))
    expect(conf).toMatch(/^use-auth-secret$/m)
    expect(conf).toMatch(/^denied-peer-ip=10\.0\.0\.0-10\.255\.255\.255$/m)
    expect(conf).toMatch(/^denied-peer-ip=192\.168\.0\.0-192\.168\.255\.255$/m)
  })
})

describe('ICE outcome rules of the lab', () => {
  it('a public peer reaches all; cones need STUN; a symmetric NAT on a NATed pair needs TURN', () => {
    for (const mode of ['none', 'stun', 'stun+turn'] as const) expect(expectation('public', 'symmetric', mode).connect).toBe(true)
    expect(expectation('cone', 'cone', 'none').connect).toBe(false)
    expect(expectation('cone', 'cone', 'stun')).toEqual({ connect: true, paths: ['srflx', 'prflx'] })
    expect(expectation('cone', 'symmetric', 'stun').connect).toBe(false)
    expect(expectation('symmetric', 'symmetric', 'stun+turn')).toEqual({ connect: true, paths: ['relay'] })
  })
})
