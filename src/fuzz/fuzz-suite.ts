import { describe, expect, it } from 'vitest'
import { runTarget, type FuzzResult } from './runner.js'
import type { FuzzTarget } from './target.js'

/** Frames per decoder in the unit tests (FUZZ_FRAMES overrides; `npm run fuzz` runs more). */
export const UNIT_FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000)
/** The fixed seed of the unit tests (SEED overrides, to reproduce a run of `npm run fuzz`). */
export const UNIT_SEED = process.env.SEED ?? '1'

/** A single decode slower than this fails the unit tests (and, by default, `npm run fuzz`). */
export const SLOW_DECODE_MS = 1000

/** What a failure prints: the seed and frame that reproduce it, and the first few inputs. */
export function failureReport(r: FuzzResult, seed: string): string {
  const lines = r.failures.map((f) => `  frame ${f.frame} ${f.kind}: ${f.message}\n    input ${f.input}`)
  return [`${r.name}: ${r.throws} throws, ${r.violations} violations (SEED=${seed}; npm run fuzz -- --seed ${seed} --only ${r.name})`, ...lines].join('\n')
}

/** One test per target: no decoder throws, and every result keeps its bounds. */
export function fuzzSuite(title: string, targets: readonly FuzzTarget[]): void {
  describe(title, () => {
    for (const t of targets) {
      it(`${t.name} (${t.what}): ${UNIT_FRAMES} frames`, () => {
        const r = runTarget(t, UNIT_FRAMES, UNIT_SEED)
        expect(r.throws + r.violations, failureReport(r, UNIT_SEED)).toBe(0)
        // Every target sees valid messages too: a decoder that refuses everything would pass the rest.
        expect(r.accepted, `${t.name} accepted nothing (SEED=${UNIT_SEED})`).toBeGreaterThan(0)
        // One frame that takes a second is a denial of service (GC pauses take tens of milliseconds).
        expect(r.slowestMs, `${t.name}: one decode took ${r.slowestMs.toFixed(0)} ms (SEED=${UNIT_SEED})`).toBeLessThan(SLOW_DECODE_MS)
      })
    }
  })
}
