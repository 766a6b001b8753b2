import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { parseTracks, tracksToJson, TracksError, type Tracks } from './replay.js'

/** The largest track file (after gunzip) a run reads: JSON.parse needs it as one string. */
export const TRACKS_MAX_BYTES = 256 * 2 ** 20

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b

const why = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** Reads and checks a track file, gzipped (magic bytes 1f 8b) or plain JSON. */
export function readTracksFile(path: string): Tracks {
  let bytes: Buffer
  try {
    const size = statSync(path).size
    if (size > TRACKS_MAX_BYTES) throw new TracksError('TOO_BIG', `tracks ${path}: ${size} bytes, at most ${TRACKS_MAX_BYTES}`)
    bytes = readFileSync(path)
  } catch (err) {
    if (err instanceof TracksError) throw err
    throw new TracksError('UNREADABLE', `cannot read tracks ${path}: ${why(err)}`)
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: TRACKS_MAX_BYTES })
    } catch (err) {
      throw new TracksError('MALFORMED', `${path}: bad gzip data (${why(err)})`)
    }
  } else if (path.endsWith('.gz')) {
    throw new TracksError('MALFORMED', `${path}: named .gz but not gzip (it does not start with the bytes 1f 8b)`)
  }
  return parseTracks(bytes.toString('utf8'), path)
}

/** Throws before a run whose tracks could not be written at its end (no such directory). */
export function checkTracksWritable(path: string): void {
  const dir = dirname(path)
  let ok = false
  try {
    ok = statSync(dir).isDirectory()
  } catch {
    // no such directory: ok stays false
  }
  if (!ok) throw new TracksError('UNREADABLE', `--write-tracks ${path}: no directory ${dir}`)
}

/** Writes tracks as JSON, gzipped when the name ends in .gz. */
export function writeTracksFile(path: string, tracks: Tracks): void {
  const json = Buffer.concat(tracksToJson(tracks).map((s) => Buffer.from(s, 'utf8')))
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(json) : json)
}
