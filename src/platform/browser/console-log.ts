import type { Log, LogFields } from '../../core/env.js'
import type { LogLevel } from '../json-log.js'

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 }

export interface ConsoleLogInit {
  /** @default 'info' */
  level?: LogLevel
  /** Prefix of every message. @default '[p2p]' */
  prefix?: string
}

/** The browser's log: the devtools console, with fields as an inspectable object. */
export class ConsoleLog implements Log {
  private readonly rank: number
  private readonly prefix: string

  constructor(init: ConsoleLogInit = {}) {
    this.rank = RANK[init.level ?? 'info']
    this.prefix = init.prefix ?? '[p2p]'
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.rank <= 0) console.debug(this.prefix, msg, fields ?? '')
  }

  info(msg: string, fields?: LogFields): void {
    if (this.rank <= 1) console.info(this.prefix, msg, fields ?? '')
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.rank <= 2) console.warn(this.prefix, msg, fields ?? '')
  }

  error(msg: string, fields?: LogFields): void {
    if (this.rank <= 3) console.error(this.prefix, msg, fields ?? '')
  }
}
