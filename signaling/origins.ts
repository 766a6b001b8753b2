/**
 * Which web pages may open a socket to the node. Browsers always send the
 * page's `Origin` with a WebSocket upgrade and a page cannot change it, so an
 * allow-list stops other sites from turning their visitors' browsers into
 * clients of this node (a Sybil from every visitor's address). A client that is
 * not a browser sends no `Origin`, or any it likes; it is let through, because
 * refusing it would stop anchors and bots and nothing else.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>

  /** `allowed` as {@link parseOrigins} returns it; empty allows every origin. */
  constructor(allowed: readonly string[]) {
    this.allowed = new Set(allowed)
  }

  /**
   * Whether an upgrade with this `Origin` header may proceed. Besides the list,
   * the node's own origin (the page it serves, `npm start`) is allowed: the
   * origin's host:port is the request's `Host`.
   */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (this.allowed.size === 0 || origin === undefined) return true
    const o = normalizeOrigin(origin)
    if (o === undefined) return false
    if (this.allowed.has(o)) return true
    return host !== undefined && o !== 'null' && new URL(o).host === host.toLowerCase()
  }
}

/** An origin as browsers send it (`scheme://host[:port]`, lower case, no default port), or undefined. */
export function normalizeOrigin(origin: string): string | undefined {
  if (origin === 'null') return 'null'
  try {
    const u = new URL(origin)
    return u.origin === 'null' ? undefined : u.origin
  } catch {
    return undefined
  }
}

/**
 * Allowed origins from flag values (each may be a comma list); throws an Error
 * naming the first one that is not an origin.
 */
export function parseOrigins(values: readonly string[]): string[] {
  const out: string[] = []
  for (const v of values.flatMap((s) => s.split(','))) {
    const t = v.trim()
    if (t === '') continue
    const o = normalizeOrigin(t.replace(/\/$/, ''))
    if (o === undefined || (o !== 'null' && new URL(t).pathname.length > 1)) {
      throw new Error(`--allow-origin ${t}: not an origin (scheme://host[:port], e.g. https://world.example.org)`)
    }
    out.push(o)
  }
  return out
}
