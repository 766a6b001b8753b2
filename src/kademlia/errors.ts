/**
 * Expected failures of the DHT, told apart by `code`. Remote garbage is never an
 * error: decoders return null and the frame is dropped and counted.
 */
export type DhtErrorCode =
  /** No answer within the RPC timeout (link setup included). */
  | 'TIMEOUT'
  /** The link closed (or failed to open) before the answer came. */
  | 'LINK_CLOSED'
  /** No link could be opened (the link layer is at its cap). */
  | 'NO_LINK'
  /** Too many requests in flight, or the link's queue is full. */
  | 'BUSY'
  /** The remote has not seen our public key on this link yet; retry. */
  | 'NEED_KEY'
  /** The DHT was stopped. */
  | 'STOPPED'
  /** A record failed validation (signature, key binding, size). */
  | 'INVALID_RECORD'
  /** No peer stored the record. */
  | 'NOT_STORED'
  /** No record was found. */
  | 'NOT_FOUND'
  /** The routing table is empty: join first. */
  | 'NO_PEERS'

export class DhtError extends Error {
  readonly code: DhtErrorCode

  constructor(code: DhtErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'DhtError'
    this.code = code
  }

  static of(code: DhtErrorCode, message = ''): DhtError {
    return new DhtError(code, message === '' ? code.toLowerCase().replace(/_/g, ' ') : message)
  }
}
