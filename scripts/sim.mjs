// npm run sim -- ARGS: bundles the simulator with esbuild and runs it in a child
// node sized for the run.
//
// Why not `node --import tsx`: tsx compiles with esbuild's keepNames, which wraps
// every function in a call that redefines its `name`. That turns each closure's
// properties into a dictionary of about 256 bytes; the link layer makes eight
// closures per connection, which came to a quarter of the heap at 1,000 peers
// and cost the time of the call at every closure made. The bundle keeps
// source maps, so stack traces still point into src/.
//
// The young generation grows with the run: a message lives tens of virtual ms,
// which at 10,000 peers is seconds of wall time, and with V8's default (or 128
// MiB) semi-spaces most of them survived two scavenges and were promoted,
// filling the old generation with garbage.
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// One bundle per run, so runs started together from different checkouts (or
// while a file changes) never share one.
const outfile = join(root, 'node_modules', '.cache', 'p2p-sim', `cli-${process.pid}.mjs`)
await build({
  entryPoints: [join(root, 'src', 'sim', 'cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
})

const args = process.argv.slice(2)
const peersAt = args.indexOf('--peers')
const peers = peersAt >= 0 ? Number(args[peersAt + 1]) : NaN
// MiB per semi-space: about 0.1 MiB per peer, between V8's 16 and 1 GiB.
const semiMiB = Math.max(16, Math.min(1024, Math.round((Number.isFinite(peers) ? peers : 1000) / 10)))
const child = spawnSync(
  process.execPath,
  [`--max-semi-space-size=${semiMiB}`, '--max-old-space-size=16384', '--enable-source-maps', outfile, ...args],
  { stdio: 'inherit' },
)
rmSync(outfile, { force: true })
rmSync(`${outfile}.map`, { force: true })
process.exit(child.status ?? 1)
