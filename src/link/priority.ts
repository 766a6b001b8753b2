/**
 * Traffic classes (seed 000, DiffServ-like). HIGH: real-time interaction (moves,
 * chat). MEDIUM: overlay maintenance (joins, notifications, DHT RPCs, signaling
 * relays); promoted after an aging bound so it never starves. LOW: bulk transfer
 * (asset chunks); sent only when nothing else waits, never promoted.
 */
export const Priority = { HIGH: 0, MEDIUM: 1, LOW: 2 } as const
export type Priority = (typeof Priority)[keyof typeof Priority]

export const PRIORITIES: readonly Priority[] = [Priority.HIGH, Priority.MEDIUM, Priority.LOW]

export const PRIORITY_NAMES = ['high', 'medium', 'low'] as const

export function isPriority(v: unknown): v is Priority {
  return v === 0 || v === 1 || v === 2
}
