/** The ws:// (wss:// with `tls`) URL a local peer (an anchor) uses to reach a node bound to `host`. */
export function localNodeUrl(host: string, port: number, tls = false): string {
  const scheme = tls ? 'wss' : 'ws'
  if (host === '0.0.0.0' || host === '') return `${scheme}://127.0.0.1:${port}/`
  if (host === '::') return `${scheme}://[::1]:${port}/`
  return host.includes(':') ? `${scheme}://[${host}]:${port}/` : `${scheme}://${host}:${port}/`
}
