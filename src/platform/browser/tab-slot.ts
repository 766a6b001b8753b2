/**
 * Claims the lowest free "tab slot" of this browser profile with the Web Locks
 * API and holds it until the tab closes. Each slot has its own identity and
 * cache in the shared store, so two tabs are two peers (the signaling node would
 * otherwise drop the older connection of a shared id), while a reloaded tab gets
 * its slot, and so its identity, back. Undefined when every slot is taken or
 * Web Locks are missing.
 */
export async function claimTabSlot(maxSlots = 16): Promise<number | undefined> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks
  if (locks === undefined) return undefined
  for (let slot = 0; slot < maxSlots; slot++) {
    const got = await new Promise<boolean>((resolve) => {
      locks
        .request(`p2p-world/tab-slot/${slot}`, { ifAvailable: true }, (lock) => {
          resolve(lock !== null)
          // Returning a promise that never settles holds the lock for the tab's lifetime.
          return lock === null ? undefined : new Promise<void>(() => {})
        })
        .catch(() => resolve(false))
    })
    if (got) return slot
  }
  return undefined
}
