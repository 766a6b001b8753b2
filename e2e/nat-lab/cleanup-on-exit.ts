/**
 * Cleanups that must run however the process ends: a lab left behind keeps its
 * namespaces, veths and servers until the next sweep.
 *
 * The registry is per process (signals are), which is why it lives at module level.
 */
interface Cleanup {
  readonly run: () => Promise<void>
  /** For the 'exit' event, where nothing asynchronous completes. */
  readonly runSync: () => void
}

const cleanups = new Set<Cleanup>()
const SIGNAL_CLEANUP_TIMEOUT_MS = 10_000
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }
let installed = false

/**
 * Runs `cleanup` on SIGINT, SIGTERM and SIGHUP (then exits 128 + signal), and
 * `cleanupSync` on process exit (normal end, `process.exit`, uncaught exception),
 * unless the returned function was called first. Both must be idempotent: a
 * signal handler's cleanup is followed by the exit handler's.
 */
export function cleanupOnExit(cleanup: () => Promise<void>, cleanupSync: () => void): () => void {
  install()
  const entry: Cleanup = { run: cleanup, runSync: cleanupSync }
  cleanups.add(entry)
  return () => {
    cleanups.delete(entry)
  }
}

function install(): void {
  if (installed) return
  installed = true
  process.on('exit', () => {
    for (const c of cleanups) {
      try {
        c.runSync()
      } catch (err) {
        console.error('nat-lab: cleanup at exit failed:', err)
      }
    }
  })
  let exiting = false
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES) as [NodeJS.Signals, number][]) {
    process.on(signal, () => {
      // Repeats are ignored rather than left to Node's default (death without an
      // 'exit' event, so without cleanup): tsx relays the terminal's Ctrl-C to
      // its child, which therefore gets SIGINT twice. The cleanup is bounded anyway.
      if (exiting) return
      exiting = true
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, SIGNAL_CLEANUP_TIMEOUT_MS).unref())
      const all = Promise.allSettled([...cleanups].map((c) => c.run()))
      void Promise.race([all, timeout]).finally(() => process.exit(code))
    })
  }
}
