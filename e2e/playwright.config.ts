import { defineConfig } from '@playwright/test'
import { CHROMIUM_ARGS } from '../bench/lib/browser.js'
import { chromiumPath } from '../bench/lib/chromium-path.js'

/**
 * The end-to-end suite: real pages in the system's Chromium ($CHROMIUM, else
 * /usr/bin/chromium and the usual paths; global-setup.ts installs Debian's when
 * there is none and it may); `npx playwright install` is never needed. One worker: the
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
    // The setup installs Debian's Chromium when none is found (as root), so this path exists when tests start.
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
})
