/** Percentile (0..100) of unsorted samples by nearest rank; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? NaN : samples.reduce((s, x) => s + x, 0) / samples.length
}
