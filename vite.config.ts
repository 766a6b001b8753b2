import { nodePolyfills } from 'vite-plugin-node-polyfills'
import { defineConfig } from 'vitest/config'
import { devSignalingNode } from './signaling/dev-node.js'

// simple-peer 9 is written for Node streams and events; the browser bundle needs
// these polyfills. Tests run in Node against the real modules (ws, @roamhq/wrtc),
// so vitest must not get the aliases.
const browserPolyfills = process.env.VITEST === undefined
  ? [nodePolyfills({ include: ['events', 'buffer', 'process', 'stream', 'util'], globals: { Buffer: true, global: true, process: true } })]
  : []

export default defineConfig({
  // `npm run dev` starts a signaling node beside Vite (signaling/dev-node.ts); builds and tests do not.
  plugins: [...browserPolyfills, ...(process.env.VITEST === undefined ? [devSignalingNode()] : [])],
  build: {
    target: 'es2022',
    outDir: 'dist',
    sourcemap: true,
  },
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'signaling/**/*.test.ts', 'scripts/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
})
