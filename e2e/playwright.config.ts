import { defineConfig } from '@playwright/test'
import { CHROMIUM_ARGS } from '../bench/lib/browser.js'

/**
 * The end-to-end suite: real pages in Debian's Chromium (playwright-core drives
 * /usr/bin/chromium; `npx playwright install` is never needed). One worker: the
 * tests start servers and several browser contexts, and the machine has 2 cores.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  globalSetup: './global-setup.ts',
  outputDir: '../test-results',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: process.env.CI !== undefined,
  timeout: 120_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    headless: true,
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
})
