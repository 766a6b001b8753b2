import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { KeyValueStore } from '../../core/env.js'

/**
 * A KeyValueStore on disk for Node peers (anchors, bots, tests): one file per key
 * in `dir`, written to a temporary file and renamed so a crash never leaves half
 * a value. Keys are hex-encoded into file names, so any string is a valid key.
 */
export class FileStore implements KeyValueStore {
  private ready: Promise<void> | undefined

  constructor(private readonly dir: string) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(key)))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.init()
    const tmp = `${this.path(key)}.tmp`
    await writeFile(tmp, value)
    await rename(tmp, this.path(key))
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true })
  }

  async keys(prefix = ''): Promise<string[]> {
    await this.init()
    const names = await readdir(this.dir)
    return names
      .filter((n) => n.endsWith('.kv'))
      .map((n) => Buffer.from(n.slice(0, -3), 'hex').toString('utf8'))
      .filter((k) => k.startsWith(prefix))
      .sort()
  }

  private path(key: string): string {
    return join(this.dir, `${Buffer.from(key, 'utf8').toString('hex')}.kv`)
  }

  private init(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined)
    return this.ready
  }
}
