import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

// The Env rule is what keeps the simulator honest; check the lint config enforces it.
describe('lint: protocol code takes time, randomness and I/O from Env', () => {
  const eslint = new ESLint({ cwd: process.cwd() })
  const ambient = [
    'export const a = Date.now()',
    'export const b = Math.random()',
    'setTimeout(() => {}, 1)',
    'export const c = performance.now()',
    'export const d = window.innerWidth',
    'export const e = crypto.getRandomValues(new Uint8Array(4))',
    "import { createHash } from 'node:crypto'\nexport const f = createHash",
    "import { Simulator } from '../sim/simulator.js'\nexport const g = Simulator",
  ]

  for (const dir of ['core', 'link', 'von', 'kademlia', 'services', 'peer']) {
    it(`rejects ambient calls in src/${dir}`, async () => {
      for (const code of ambient) {
        const [result] = await eslint.lintText(code, { filePath: `src/${dir}/fixture.ts` })
        expect(result!.errorCount, `${dir}: ${code}`).toBeGreaterThan(0)
      }
    })
  }

  it('allows them outside protocol code and passes clean protocol code', async () => {
    const [sim] = await eslint.lintText('export const a = Date.now() + Math.random()', { filePath: 'src/sim/fixture.ts' })
    expect(sim!.errorCount).toBe(0)
    const [clean] = await eslint.lintText(
      "import type { Env } from '../core/env.js'\nexport const now = (env: Env): number => env.clock.now()",
      { filePath: 'src/link/fixture.ts' },
    )
    expect(clean!.errorCount).toBe(0)
  })
})
