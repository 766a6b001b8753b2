import { test as base, type BrowserContext, type Page } from '@playwright/test'
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

  player: async ({ browser, server, world, pageErrors }, use, info) => {
    const contexts: Awaited<ReturnType<typeof browser.newContext>>[] = []
    // The pages log at debug (every link opened and closed); printed when the test fails, or live with E2E_LOG.
    const pageConsole = new PageConsole(process.env.E2E_LOG !== undefined)
    await use(async (opts = {}) => {
      const context = await browser.newContext()
      contexts.push(context)
      context.on('page', (p) => p.on('pageerror', (err) => pageErrors.push(`${err.name}: ${err.message}`)))
      pageConsole.watch(context, contexts.length)
      return openPlayer(context, opts.base ?? server.url, { world, log: process.env.E2E_LOG ?? 'debug', ...opts })
    })
    const lines = await pageConsole.lines()
    if (info.status !== info.expectedStatus && lines.length > 0) {
      await info.attach('pages-console.txt', { body: lines.join('\n'), contentType: 'text/plain' })
      if (process.env.E2E_LOG === undefined) process.stdout.write(`--- the pages' console (last ${lines.length} lines) ---\n${lines.join('\n')}\n`)
    }
    await Promise.all(contexts.map((c) => c.close()))
  },
})

/** Console lines of a test's pages, numbered by context, timed from the test's start; the last MAX_LINES kept. */
class PageConsole {
  private readonly t0 = Date.now()
  private readonly pending: Promise<string>[] = []

  constructor(private readonly live: boolean) {}

  watch(context: BrowserContext, n: number): void {
    context.on('console', (m) => {
      const at = Date.now() - this.t0
      const line = Promise.all(m.args().map((a) => a.jsonValue().catch(() => '?'))).then(
        (args) => `[page ${n} +${at} ms] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`,
        () => `[page ${n} +${at} ms] ${m.text()}`,
      )
      if (this.live) void line.then((l) => console.log(l))
      this.pending.push(line)
      if (this.pending.length > MAX_LINES) this.pending.shift()
    })
  }

  lines(): Promise<string[]> {
    return Promise.all(this.pending)
  }
}

const MAX_LINES = 2000

export const expect = test.expect
