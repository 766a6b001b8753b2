// @ts-check
import tseslint from 'typescript-eslint'

// Protocol code runs unchanged in the browser, in Node and in the deterministic
// simulator, so it may take time, timers, randomness, crypto, storage and I/O only
// from Env (shared/ARCHITECTURE.md, "the Env rule").
const PROTOCOL_DIRS = ['src/core', 'src/link', 'src/von', 'src/kademlia', 'src/services', 'src/peer']

const AMBIENT = 'Protocol code takes time, timers, randomness and I/O from Env (see ARCHITECTURE.md).'
const FORBIDDEN_GLOBALS = [
  'Date', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'setImmediate', 'clearImmediate',
  'queueMicrotask', 'requestAnimationFrame', 'requestIdleCallback', 'performance', 'window', 'self', 'document',
  'navigator', 'location', 'localStorage', 'sessionStorage', 'indexedDB', 'crypto', 'fetch', 'WebSocket',
  'RTCPeerConnection', 'Worker', 'process', 'globalThis', 'global', 'Buffer', 'require',
].map((name) => ({ name, message: AMBIENT }))

// Layers import only from layers above them (ARCHITECTURE.md); protocol layers never
// reach platform code, the simulator, the UI or the game.
const LAYERS = ['core', 'link', 'von', 'kademlia', 'services', 'peer', 'platform', 'sim', 'ui', 'game']
const PLATFORM_PACKAGES = ['node:*', 'fs', 'path', 'os', 'crypto', 'phaser', 'simple-peer', 'idb-keyval', '@roamhq/wrtc', 'ws', 'zustand', 'zustand/*']

/** @param {string} layer */
function layerRule(layer) {
  const below = LAYERS.slice(LAYERS.indexOf(layer) + 1)
  return {
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: below.map((l) => `**/${l}/*`), message: `src/${layer} may not import from layers below it.` },
          { group: PLATFORM_PACKAGES, message: AMBIENT },
        ],
      }],
    },
  }
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: PROTOCOL_DIRS.map((d) => `${d}/**/*.ts`),
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', ...FORBIDDEN_GLOBALS],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: AMBIENT },
        { object: 'Date', property: 'now', message: AMBIENT },
      ],
    },
  },
  ...['core', 'link', 'von', 'kademlia', 'services', 'peer'].map(layerRule),
)
