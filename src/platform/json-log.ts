import type { Log, LogFields } from '../core/env.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 }

/** Validates a level from a flag or an environment variable; null when unknown. */
export function parseLogLevel(value: unknown): LogLevel | null {
  return typeof value === 'string' && value in RANK ? (value as LogLevel) : null
}

export interface JsonLogComponents {
  /** Writes one line (no trailing newline). */
  write(line: string): void
  /** Wall-clock time for the `time` field. @default () => new Date().toISOString() */
  time?: () => string
}

export interface JsonLogInit {
  /** Lines below this level are dropped. @default 'info' */
  level?: LogLevel
  /** Fields added to every line, e.g. `{ name: 'signaling' }`. @default {} */
  fields?: LogFields
}

/**
 * Structured logs as JSON lines (`{"time","level","msg",...fields}`), so a log
 * collector or `jq` can read them. Errors become their message; byte arrays
 * their length: a log line never carries a key or a whole frame.
 */
export class JsonLog implements Log {
  private readonly write: (line: string) => void
  private readonly time: () => string
  private readonly rank: number
  private readonly fields: LogFields

  constructor(components: JsonLogComponents, init: JsonLogInit = {}) {
    this.write = components.write
    this.time = components.time ?? (() => new Date().toISOString())
    this.rank = RANK[init.level ?? 'info']
    this.fields = init.fields ?? {}
  }

  debug(msg: string, fields?: LogFields): void {
    this.line('debug', msg, fields)
  }

  info(msg: string, fields?: LogFields): void {
    this.line('info', msg, fields)
  }

  warn(msg: string, fields?: LogFields): void {
    this.line('warn', msg, fields)
  }

  error(msg: string, fields?: LogFields): void {
    this.line('error', msg, fields)
  }

  private line(level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields | undefined): void {
    if (RANK[level] < this.rank) return
    const record = { time: this.time(), level, msg, ...this.fields, ...fields }
    this.write(JSON.stringify(record, replacer))
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message
  if (value instanceof Uint8Array) return `<${value.length} bytes>`
  if (typeof value === 'bigint') return value.toString()
  return value
}
