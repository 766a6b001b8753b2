import { test as base, type Page } from '@playwright/test'
import { openPlayer, type PlayerOptions } from './player.js'
import { startServerProcess, type ServerProcess } from './server-process.js'

/** Opens players, each in its own browser context (one profile: one identity). */
export type OpenPlayer = (opts?: PlayerOptions & { base?: string }) => Promise<Page>

interface TestFixtures {
  /** The world's name for this test: tests never meet each other's pages. */
  world: string
  player: OpenPlayer
  /** Uncaught errors of every page this test opened (checked empty at the end). */
  pageErrors: string[]
}

interface WorkerFixtures {
  /** One `npm start` child shared by the tests that do not kill theirs. */
  server: ServerProcess
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: [async ({}, use) => {
    const server = await startServerProcess()
    await use(server)
    await server.stop()
  }, { scope: 'worker' }],

  world: async ({}, use, info) => {
    await use(`e2e-${info.workerIndex}-${info.testId.slice(0, 8)}-${info.repeatEachIndex}${info.retry}`)
  },

  pageErrors: async ({}, use) => {
    const errors: string[] = []
    await use(errors)
    base.expect(errors, 'uncaught errors in the pages').toEqual([])
  },

  player: async ({ browser, server, world, pageErrors }, use) => {
    const contexts: Awaited<ReturnType<typeof browser.newContext>>[] = []
    await use(async (opts = {}) => {
      const context = await browser.newContext()
      contexts.push(context)
      context.on('page', (p) => p.on('pageerror', (err) => pageErrors.push(`${err.name}: ${err.message}`)))
      if (process.env.E2E_LOG !== undefined) {
        const n = contexts.length
        const t0 = Date.now()
        context.on('console', (m) => {
          const at = Date.now() - t0
          void Promise.all(m.args().map((a) => a.jsonValue().catch(() => '?'))).then((args) =>
            console.log(`[page ${n} +${at} ms] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
          )
        })
      }
      return openPlayer(context, opts.base ?? server.url, { world, ...opts })
    })
    await Promise.all(contexts.map((c) => c.close()))
  },
})

export const expect = test.expect
