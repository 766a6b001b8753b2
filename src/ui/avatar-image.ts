/**
 * Custom avatars: a PNG, JPEG or WebP of at most 256 KiB, checked by its bytes
 * (not its name or claimed type) and redrawn in the browser as a small square
 * before anyone else sees it, so what is published is always a small image the
 * page itself encoded.
 */

export const AVATAR_MAX_BYTES = 256 * 1024
/** Side of the published avatar, px. */
export const AVATAR_SIZE_PX = 64

export type ImageKind = 'png' | 'jpeg' | 'webp'

export class AvatarError extends Error {
  constructor(
    readonly code: 'too-large' | 'not-an-image' | 'undecodable' | 'encode-failed',
    message: string,
  ) {
    super(message)
    this.name = 'AvatarError'
  }
}

/** The image format from the first bytes; undefined for anything else. */
export function sniffImage(b: Uint8Array): ImageKind | undefined {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png'
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg'
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to))
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp'
  return undefined
}

/** Checks a picked file's size and format; throws AvatarError with a message for a person. */
export function checkAvatarFile(bytes: Uint8Array): ImageKind {
  if (bytes.length > AVATAR_MAX_BYTES) {
    throw new AvatarError('too-large', `That image is ${(bytes.length / 1024).toFixed(0)} KiB; pick one of at most ${AVATAR_MAX_BYTES / 1024} KiB.`)
  }
  const kind = sniffImage(bytes)
  if (kind === undefined) throw new AvatarError('not-an-image', 'That file is not a PNG, JPEG or WebP image.')
  return kind
}

/**
 * Checks `file` and redraws it as an `AVATAR_SIZE_PX` square (centre crop),
 * encoded as WebP, or PNG where the browser cannot encode WebP.
 */
export async function prepareAvatar(file: Blob): Promise<{ bytes: Uint8Array; type: string }> {
  if (file.size > AVATAR_MAX_BYTES) checkAvatarFile(new Uint8Array(file.size))
  const raw = new Uint8Array(await file.arrayBuffer())
  const kind = checkAvatarFile(raw)
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(new Blob([raw], { type: `image/${kind}` }))
  } catch {
    throw new AvatarError('undecodable', 'That image could not be read; it may be damaged. Try another file.')
  }
  const canvas = document.createElement('canvas')
  canvas.width = canvas.height = AVATAR_SIZE_PX
  const ctx = canvas.getContext('2d')
  if (ctx === null) throw new AvatarError('encode-failed', 'This browser cannot draw the image.')
  const side = Math.min(bitmap.width, bitmap.height)
  ctx.imageSmoothingQuality = 'high'
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, AVATAR_SIZE_PX, AVATAR_SIZE_PX)
  bitmap.close()
  const blob = (await toBlob(canvas, 'image/webp')) ?? (await toBlob(canvas, 'image/png'))
  if (blob === null) throw new AvatarError('encode-failed', 'This browser could not encode the image.')
  return { bytes: new Uint8Array(await blob.arrayBuffer()), type: blob.type }
}

function toBlob(canvas: HTMLCanvasElement, type: string): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b !== null && b.type === type ? b : null), type, 0.85))
}

/** An object URL showing avatar bytes (revoke it when replaced). */
export function avatarUrl(bytes: Uint8Array): string {
  const kind = sniffImage(bytes) ?? 'png'
  return URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${kind}` }))
}
