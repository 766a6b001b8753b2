/**
 * The browser's WebSocket, reporting every close code to `onClose`: the
 * signaling client retries by itself and keeps the reason to itself, but the
 * page must tell "the node is full" (1013) from "the node is unreachable".
 * `onOpen` hears each socket open (the join timeline).
 */
export function observedWebSocket(onClose: (code: number, reason: string) => void, onOpen?: () => void): new (url: string) => object {
  return class extends WebSocket {
    constructor(url: string) {
      super(url)
      this.addEventListener('close', (e) => onClose(e.code, e.reason))
      if (onOpen !== undefined) this.addEventListener('open', onOpen)
    }
  }
}
