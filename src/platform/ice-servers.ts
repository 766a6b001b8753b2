/**
 * ICE servers (STUN and TURN) as the signaling node hands them to peers and as
 * `?ice=` / `--ice` override them. Shared by the node, the browser and Node peers;
 * parsers take untrusted input and return null (or an error text), never throw.
 */

/** One ICE server as `RTCPeerConnection` takes it; TURN servers carry credentials. */
export interface IceServer {
  urls: string[]
  username?: string
  credential?: string
}

/** Servers in one list at most. */
export const MAX_ICE_SERVERS = 8
/** URLs of one server at most. */
export const MAX_ICE_URLS = 8
/** Longest URL, username or credential accepted. */
export const MAX_ICE_FIELD_CHARS = 256

/** stun:, stuns:, turn: or turns:, then a host (and port, query) without spaces. */
const ICE_URL_RE = /^(stuns?|turns?):[^\s/]\S*$/

export function isIceUrl(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_ICE_FIELD_CHARS && ICE_URL_RE.test(v)
}

export function isTurnUrl(url: string): boolean {
  return url.startsWith('turn:') || url.startsWith('turns:')
}

function field(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ICE_FIELD_CHARS
}

/** One server from untrusted JSON; null when malformed (a TURN URL needs both credentials). */
function parseIceServer(v: unknown): IceServer | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const o = v as Record<string, unknown>
  const urls = typeof o.urls === 'string' ? [o.urls] : o.urls
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_ICE_URLS || !urls.every(isIceUrl)) return null
  const hasUser = o.username !== undefined
  const hasCred = o.credential !== undefined
  if ((hasUser && !field(o.username)) || (hasCred && !field(o.credential)) || hasUser !== hasCred) return null
  if (urls.some(isTurnUrl) && !hasUser) return null
  return hasUser ? { urls: [...urls], username: o.username as string, credential: o.credential as string } : { urls: [...urls] }
}

/** A list of servers from untrusted JSON (the node's welcome, `?ice=[...]`); null when malformed. */
export function parseIceServers(v: unknown): IceServer[] | null {
  if (!Array.isArray(v) || v.length > MAX_ICE_SERVERS) return null
  const out: IceServer[] = []
  for (const s of v) {
    const server = parseIceServer(s)
    if (server === null) return null
    out.push(server)
  }
  return out
}

/**
 * What `?ice=` (page) or `--ice` (Node) asks for: `node` (the default: what the
 * signaling node hands out), `none` (host candidates only), a comma-separated
 * list of STUN URLs, or a JSON array of servers (TURN needs its credentials there).
 * Returns the servers, `'node'`, or an error text for the person who typed it.
 */
export function parseIceOverride(text: string): IceServer[] | 'node' | { error: string } {
  const t = text.trim()
  if (t === '' || t === 'node') return 'node'
  if (t === 'none') return []
  if (t.startsWith('[')) {
    let json: unknown
    try {
      json = JSON.parse(t)
    } catch {
      return { error: 'ice: not valid JSON' }
    }
    return parseIceServers(json) ?? { error: `ice: expected at most ${MAX_ICE_SERVERS} servers {"urls":[...],"username"?,"credential"?}, TURN with credentials` }
  }
  const urls = t.split(',').map((u) => u.trim())
  if (!urls.every(isIceUrl)) return { error: 'ice: expected node, none, STUN URLs separated by commas (stun:host:port), or a JSON array of servers' }
  if (urls.some(isTurnUrl)) return { error: 'ice: a TURN URL needs credentials: give the servers as a JSON array with username and credential' }
  if (urls.length > MAX_ICE_URLS) return { error: `ice: at most ${MAX_ICE_URLS} URLs` }
  return [{ urls }]
}

/** How many STUN and TURN URLs a list has (what the HUD and reports show; never credentials). */
export function iceSummary(servers: readonly IceServer[]): { stun: number; turn: number } {
  let stun = 0
  let turn = 0
  for (const s of servers) {
    for (const u of s.urls) {
      if (isTurnUrl(u)) turn++
      else stun++
    }
  }
  return { stun, turn }
}

/** "STUN 1 · TURN 2", "none": the ICE configuration in words, without credentials. */
export function describeIce(servers: readonly IceServer[]): string {
  const { stun, turn } = iceSummary(servers)
  if (stun + turn === 0) return 'none'
  return [stun > 0 ? `STUN ${stun}` : '', turn > 0 ? `TURN ${turn}` : ''].filter((x) => x !== '').join(' · ')
}
