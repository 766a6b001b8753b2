/**
 * Which saved player this tab plays. Each player of a browser profile has a
 * "slot" (its identity, profile and caches live under `tab<slot>/` in the
 * store), and a tab holds its slot's Web Lock for its whole life, so no two
 * tabs of a profile play the same player. A tab remembers its slot in
 * sessionStorage, which survives its reloads and nothing else: a reload brings
 * back the player the tab was, whatever other tabs did meanwhile. A new tab
 * (or a duplicated one, whose remembered slot another tab still holds) is a new
 * player, unless the person picks one of the saved players no tab is playing.
 */

/** A saved player no open tab is playing. */
export interface SavedPlayer {
  slot: number
  /** Its profile name, when it has one. */
  name: string | undefined
}

export interface TabSlotInit {
  /** The saved players (slots with an identity), as the store says. */
  listSaved(): Promise<SavedPlayer[]>
  /** Asks the person: play one of these, or a new player. Not asked when there is nothing to choose. */
  pick(choices: readonly SavedPlayer[]): Promise<number | 'new'>
  /** @default 16 */
  maxSlots?: number
  /** How long a reloaded tab waits for its old document to let go of the slot. @default 3000 */
  reloadWaitMs?: number
}

const KEY = 'p2p-world/tab-slot'
const lockName = (slot: number): string => `p2p-world/tab-slot/${slot}`

/** The slot this tab plays, held until the tab closes; undefined without Web Locks or when every slot is taken. */
export async function claimTabSlot(init: TabSlotInit): Promise<number | undefined> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks
  if (locks === undefined) return undefined
  const maxSlots = init.maxSlots ?? 16
  const remembered = Number.parseInt(sessionStorage.getItem(KEY) ?? '', 10)
  if (Number.isInteger(remembered) && remembered >= 0 && remembered < maxSlots && (await hold(locks, remembered, init.reloadWaitMs ?? 3000))) {
    return remember(remembered)
  }
  const held = new Set((await locks.query()).held?.map((l) => l.name) ?? [])
  const saved = (await init.listSaved()).filter((p) => p.slot < maxSlots && !held.has(lockName(p.slot)))
  if (saved.length > 0) {
    const choice = await init.pick(saved)
    if (choice !== 'new' && (await hold(locks, choice, 0))) return remember(choice)
  }
  const taken = new Set((await init.listSaved()).map((p) => p.slot))
  for (let slot = 0; slot < maxSlots; slot++) {
    if (!taken.has(slot) && (await hold(locks, slot, 0))) return remember(slot)
  }
  return undefined
}

function remember(slot: number): number {
  sessionStorage.setItem(KEY, String(slot))
  return slot
}

/**
 * Takes the slot's lock and keeps it for the tab's life; waits up to `waitMs`
 * for a holder to let go (a reloading tab's old document), 0: only if free.
 */
function hold(locks: LockManager, slot: number, waitMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const options: LockOptions = waitMs <= 0 ? { ifAvailable: true } : { signal: AbortSignal.timeout(waitMs) }
    locks
      .request(lockName(slot), options, (lock) => {
        resolve(lock !== null)
        // Returning a promise that never settles holds the lock for the tab's lifetime.
        return lock === null ? undefined : new Promise<void>(() => {})
      })
      .catch(() => resolve(false))
  })
}
