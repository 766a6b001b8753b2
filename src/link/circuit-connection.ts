import type { PeerId } from '../core/id.js'
import type { CircuitAuth } from './circuit-auth.js'
import { Priority } from './priority.js'
import type { Connection, ConnectionEvents, ConnectFailure, LinkPath, SignalData } from './transport.js'

/** What a circuit's end needs of the relay layer (relay.ts) that carries it. */
export interface CircuitCarrier {
  now(): number
  /** Sends sealed bytes up to the circuit's relay in class `cls`. */
  carry(conn: CircuitConnection, bytes: Uint8Array, cls: Priority): void
  /** Bytes queued on the link to the relay. */
  queuedTo(relay: PeerId): number
  /** The end closed (telling the relay when `tellRelay`). */
  closed(conn: CircuitConnection, reason: string, tellRelay: boolean): void
  opened(): void
  tamperedWith(conn: CircuitConnection): void
}

/**
 * One end of a circuit, as an ordinary transport connection: the link above
 * sends and receives through it as through a data channel. It opens once both
 * ends proved who they are; every frame is sealed and checked (circuit-auth.ts).
 */
export class CircuitConnection implements Connection {
  bufferedAmountLowThreshold = 0
  state: 'handshake' | 'open' | 'closed' = 'handshake'
  readonly remote: PeerId
  readonly path: LinkPath
  private failed: ConnectFailure | undefined

  constructor(
    private readonly layer: CircuitCarrier,
    /** @internal */ readonly auth: CircuitAuth,
    readonly relay: PeerId,
    readonly leg: 0 | 1,
    readonly cid: number,
    private events: ConnectionEvents | undefined,
  ) {
    this.remote = auth.remote
    this.path = { kind: 'peer-relay', local: 'peer-relay', remote: 'peer-relay', protocol: 'circuit', rttMs: undefined, relay }
    this.startedAt = layer.now()
  }

  /** When the circuit was asked for (or announced to us). */
  readonly startedAt: number

  /** The opener gives up on a circuit that did not open in time (a relay gone silent): told as a close, so the link tries another. */
  giveUp(reason: string): void {
    if (this.state !== 'handshake') return
    this.closeWith(reason)
    this.failed = { code: 'no-answer', detail: `circuit through ${this.relay.slice(0, 8)}: ${reason}` }
    this.events?.onClose(reason)
  }

  /** The link manager's callbacks, for a circuit that arrived from the relay. */
  attach(events: ConnectionEvents): void {
    this.events = events
  }

  get bufferedAmount(): number {
    return this.state === 'open' ? this.layer.queuedTo(this.relay) : 0
  }

  signal(_data: SignalData): void {}

  send(data: Uint8Array, priority?: number): void {
    if (this.state !== 'open') return
    const cls = priority === Priority.HIGH || priority === Priority.LOW ? priority : Priority.MEDIUM
    this.layer.carry(this, this.auth.seal(data, cls), cls)
  }

  close(): void {
    this.closeWith('closed')
  }

  /** Closes and tells the other end why (through the relay). */
  closeWith(reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.layer.closed(this, reason, true)
  }

  failure(): ConnectFailure | undefined {
    return this.failed
  }

  /** @internal A HELLO that is not sealed (the responder's answer). */
  sendRaw(bytes: Uint8Array): void {
    this.layer.carry(this, bytes, Priority.HIGH)
  }

  /** @internal Bytes from the relay. */
  receive(bytes: Uint8Array): void {
    if (this.state === 'closed') return
    if (this.state === 'handshake' && this.auth.opener && !this.auth.ready) {
      // The responder's HELLO: authenticate it, then confirm with a first sealed frame.
      if (!this.auth.onHello(bytes)) return this.tampered()
      this.open()
      this.layer.carry(this, this.auth.seal(new Uint8Array(0), Priority.HIGH), Priority.HIGH)
      return
    }
    const payload = this.auth.open(bytes)
    if (typeof payload === 'string') return payload === 'not-ready' ? undefined : this.tampered()
    if (this.state === 'handshake') this.open() // the opener's first sealed frame: it holds the key
    if (payload.length > 0) this.events?.onData(payload)
  }

  private open(): void {
    this.state = 'open'
    this.layer.opened()
    this.events?.onOpen()
  }

  private tampered(): void {
    this.layer.tamperedWith(this)
    this.failed = { code: 'ice-failed', detail: `relay ${this.relay.slice(0, 8)} altered a frame` }
    this.state = 'closed'
    this.layer.closed(this, 'tampered', true)
    this.events?.onClose('relay-tampered')
  }

  /** @internal The relay or its link went away. */
  remoteClosed(reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.failed ??= { code: 'no-answer', detail: `circuit through ${this.relay.slice(0, 8)}: ${reason}` }
    this.layer.closed(this, reason, false)
    this.events?.onClose(reason)
  }
}
