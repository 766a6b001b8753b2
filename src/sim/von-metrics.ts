/** What the oracle needs of one peer: its true position and AOI, and what it believes. */
export interface Observed {
  readonly index: number
  readonly x: number
  readonly y: number
  /** Current AOI radius (crowding control may have shrunk it). */
  readonly aoi: number
  /**
   * Believed positions of the neighbours it knows, by peer index; `shown`
   * false for a hint (a node only others named, which the game does not draw).
   */
  readonly known: ReadonlyMap<number, { x: number; y: number; shown?: boolean }>
}

/** One sample of topology consistency and drift, from the global truth. */
export interface Sample {
  /** Known AOI neighbours truly within r. */
  hits: number
  /** Peers truly within r (strict: distance < r, no buffer). */
  truth: number
  /** Hits the game is shown (not hints). */
  shownHits: number
  driftSum: number
  driftMax: number
  /** Per observed peer (same order as the input): were all its true neighbours known? */
  complete: boolean[]
  /** Per observed peer: its hits, shown hits and truth. */
  hitsOf: number[]
  shownOf: number[]
  truthOf: number[]
}

/**
 * Topology consistency as VAST defines it: over every peer, the true AOI
 * neighbours it knows divided by its true AOI neighbours; drift is the distance
 * between a known neighbour's believed and true position. A uniform grid keeps
 * one sample O(peers x neighbours). `others` are further peers that count as
 * truth but are not observed (another shard observes them).
 */
export function sampleConsistency(peers: readonly Observed[], others: readonly Observed[] = []): Sample {
  const out: Sample = { hits: 0, truth: 0, shownHits: 0, driftSum: 0, driftMax: 0, complete: [], hitsOf: [], shownOf: [], truthOf: [] }
  if (peers.length === 0) return out
  let maxAoi = 0
  for (const p of peers) maxAoi = Math.max(maxAoi, p.aoi)
  const cell = Math.max(1, maxAoi)
  const grid = new Map<number, Observed[]>()
  const key = (cx: number, cy: number): number => cx * 1_000_003 + cy
  for (const p of others.length === 0 ? peers : [...peers, ...others]) {
    const k = key(Math.floor(p.x / cell), Math.floor(p.y / cell))
    let bucket = grid.get(k)
    if (bucket === undefined) grid.set(k, (bucket = []))
    bucket.push(p)
  }
  for (const p of peers) {
    const cx = Math.floor(p.x / cell)
    const cy = Math.floor(p.y / cell)
    const reach = Math.ceil(p.aoi / cell)
    const r2 = p.aoi * p.aoi
    let complete = true
    const hits0 = out.hits
    const shown0 = out.shownHits
    const truth0 = out.truth
    for (let gx = cx - reach; gx <= cx + reach; gx++) {
      for (let gy = cy - reach; gy <= cy + reach; gy++) {
        for (const q of grid.get(key(gx, gy)) ?? []) {
          if (q === p) continue
          const d2 = (q.x - p.x) ** 2 + (q.y - p.y) ** 2
          if (d2 >= r2) continue
          out.truth++
          const believed = p.known.get(q.index)
          if (believed === undefined) {
            complete = false
            continue
          }
          out.hits++
          if (believed.shown !== false) out.shownHits++
          const drift = Math.hypot(believed.x - q.x, believed.y - q.y)
          out.driftSum += drift
          if (drift > out.driftMax) out.driftMax = drift
        }
      }
    }
    out.complete.push(complete)
    out.hitsOf.push(out.hits - hits0)
    out.shownOf.push(out.shownHits - shown0)
    out.truthOf.push(out.truth - truth0)
  }
  return out
}

/** Whether the undirected graph over `nodes` (edges by index) is connected. */
export function isConnected(nodes: readonly number[], edges: ReadonlyMap<number, readonly number[]>): boolean {
  if (nodes.length <= 1) return true
  const alive = new Set(nodes)
  const adj = new Map<number, number[]>()
  for (const [a, list] of edges) {
    if (!alive.has(a)) continue
    for (const b of list) {
      if (!alive.has(b)) continue
      ;(adj.get(a) ?? adj.set(a, []).get(a)!).push(b)
      ;(adj.get(b) ?? adj.set(b, []).get(b)!).push(a)
    }
  }
  const seen = new Set([nodes[0]!])
  const stack = [nodes[0]!]
  while (stack.length > 0) {
    for (const b of adj.get(stack.pop()!) ?? []) {
      if (!seen.has(b)) {
        seen.add(b)
        stack.push(b)
      }
    }
  }
  return seen.size === alive.size
}
