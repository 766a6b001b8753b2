/** The ws:// URL a local peer (an anchor) uses to reach a node bound to `host`. */
export function localNodeUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '' ) return `ws://127.0.0.1:${port}/`
  if (host === '::') return `ws://[::1]:${port}/`
  return host.includes(':') ? `ws://[${host}]:${port}/` : `ws://${host}:${port}/`
}
