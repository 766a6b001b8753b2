/** Expected failures of an asset fetch or publish, told apart by `code`. */
export type AssetErrorCode =
  /** No holder had it (or every holder failed). */
  | 'NOT_FOUND'
  /** The fetch took longer than `fetchTimeoutMs`. */
  | 'TIMEOUT'
  /** The chunks matched the manifest but not its whole-asset hash: a bad publisher. */
  | 'CORRUPT'
  /** Over 256 KiB, or an invalid MIME type. */
  | 'INVALID_ASSET'
  /** Own assets fill the store. */
  | 'STORE_FULL'
  /** Too many fetches at once. */
  | 'BUSY'
  /** The service was closed. */
  | 'CLOSED'

export class AssetError extends Error {
  readonly code: AssetErrorCode

  constructor(code: AssetErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.name = 'AssetError'
    this.code = code
  }
}
