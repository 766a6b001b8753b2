/**
 * One error class for expected failures, told apart by `code`. Remote garbage is
 * never an error: decoders return `null` and the caller drops the frame.
 */
export type ErrorCode =
  | 'QUEUE_FULL'
  | 'NO_LINK'
  | 'LINK_LIMIT'
  | 'LINK_CLOSED'
  | 'CONNECT_TIMEOUT'
  | 'NO_SIGNALING_ROUTE'
  | 'MESSAGE_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'BAD_KEY'

export class P2PError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'P2PError'
    this.code = code
  }

  static QUEUE_FULL(what: string): P2PError {
    return new P2PError('QUEUE_FULL', `${what} queue is full`)
  }

  static NO_LINK(peer: string): P2PError {
    return new P2PError('NO_LINK', `no link to ${peer.slice(0, 12)}`)
  }

  static LINK_LIMIT(max: number): P2PError {
    return new P2PError('LINK_LIMIT', `at the limit of ${max} links and none can be collected`)
  }

  static LINK_CLOSED(reason: string): P2PError {
    return new P2PError('LINK_CLOSED', `link closed: ${reason}`)
  }

  static MESSAGE_TOO_LARGE(size: number, max: number): P2PError {
    return new P2PError('MESSAGE_TOO_LARGE', `${size} bytes exceeds ${max}`)
  }

  static INVALID_ARGUMENT(what: string): P2PError {
    return new P2PError('INVALID_ARGUMENT', what)
  }
}
