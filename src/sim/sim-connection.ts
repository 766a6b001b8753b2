import type { PeerId } from '../core/id.js'
import type { ConnectFailure, Connection, ConnectionEvents, LinkPath, PathKind, SignalData } from '../link/transport.js'
import type { SimEvent } from './event-queue.js'
import { iceFailure, simPath } from './nat-model.js'
import type { SimNetwork, SimNode } from './network.js'
import { RecordKind } from './shard-bus.js'

type State = 'new' | 'paired' | 'open' | 'closed'

/**
 * A simulated data channel. Signaling is real: the initiator emits an offer that
 * the link layer must carry to the responder (through a peer or the bootstrap
 * node), the responder answers the same way, and only then do ICE/DTLS round
 * trips run. Sends are serialised on the sender's uplink and the receiver's
 * downlink, so `bufferedAmount` drains at the link rate as in a browser.
 * The NAT classes of both ends decide the path (iceOutcome): a TURN-relayed
 * link is slower by `turnExtraMs` each way, and a pair no path connects never
 * opens: each end reports `ice-failed` `iceFailMs` after its checks began.
 */
export class SimConnection implements Connection {
  bufferedAmountLowThreshold = 0
  private state: State = 'new'
  /** The other end, when it runs on this shard. */
  private peer: SimConnection | undefined
  /** Its `onArrive`, read once: a send then needs nothing from the other end's object. */
  private peerArrive: ((data: Uint8Array) => void) | undefined
  /** The other end's id and shard, when another shard runs it (see ShardPort). */
  private farCid = -1
  private farShard = -1
  /** The remote node (crashed or not), once paired. */
  private remoteNode: SimNode | undefined
  /**
   * Sends still on the uplink: when each leaves it and its size, as two arrays
   * of numbers from `pendingHead` to `pendingEnd` (no object per message sent; a
   * Deque of numbers would box them, since it clears a shifted slot to
   * undefined). Emptying them only resets the two indices: setting an array's
   * length to 0 frees its storage, and the next send allocated it again.
   */
  private pendingDone: number[] = []
  private pendingSize: number[] = []
  private pendingHead = 0
  private pendingEnd = 0
  /**
   * When the newest of them leaves the uplink, and their bytes: usually all
   * have left by the next send, and then the arrays (two more objects, far
   * from this one in memory) need not be read at all.
   */
  private pendingLastDone = 0
  private pendingBytes = 0
  /** Sent while the remote was unreachable: held, as SCTP holds unacknowledged data. */
  private stalled: Uint8Array[] = []
  private buffered = 0
  /** Base one-way latency to the remote (positions in the latency plane are fixed). */
  private oneWayMs = 0
  private lastArrival = 0
  /** The remote node's index, for the trace hash (read once per delivery). */
  private remoteIndex = -1
  private drainEvent: SimEvent | undefined
  /** ICE's outcome for the pair, once paired. */
  private outcome: PathKind | 'fail' | undefined
  /** This end has the other's candidates: its connectivity checks run. */
  private checking = false
  /** Set when the link opens (see simPath). */
  path: LinkPath | undefined

  constructor(
    private readonly net: SimNetwork,
    readonly local: SimNode,
    readonly remote: PeerId,
    readonly initiator: boolean,
    private readonly events: ConnectionEvents,
    readonly cid: number,
  ) {}

  /** Called once registered: the initiator gathers and emits its offer. */
  start(): void {
    if (this.initiator) this.emit(() => this.events.onSignal(this.sdp({ t: 'offer', c: this.cid })))
  }

  /** An offer or answer, padded to a browser's SDP size when the network models it (SimIceInit.sdpBytes). */
  private sdp(data: SignalData): SignalData {
    const n = this.net.init.ice.sdpBytes
    return n > 0 ? { ...data, s: new Uint8Array(n) } : data
  }

  get bufferedAmount(): number {
    if (this.buffered === 0) return 0
    const now = this.net.sim.now
    if (this.pendingLastDone <= now) {
      this.buffered -= this.pendingBytes
      this.clearPending()
      return this.buffered
    }
    const done = this.pendingDone
    const end = this.pendingEnd
    let head = this.pendingHead
    while (head < end && done[head]! <= now) {
      const size = this.pendingSize[head++]!
      this.buffered -= size
      this.pendingBytes -= size
    }
    if (head === end) this.clearPending()
    else if (head > 64 && head * 2 > end) {
      this.pendingDone = done.slice(head, end)
      this.pendingSize = this.pendingSize.slice(head, end)
      this.pendingHead = 0
      this.pendingEnd = end - head
    } else this.pendingHead = head
    return this.buffered
  }

  signal(data: SignalData): void {
    if (this.state === 'closed' || this.local.crashed) return
    if (typeof data.c === 'number' && this.net.shardOfConnection(data.c) !== this.net.shard) return this.signalFar(data.c, data.t)
    const other = typeof data.c === 'number' ? this.net.connection(data.c) : undefined
    if (other === undefined || other.local.id !== this.remote || other.remote !== this.local.id) return
    if (data.t === 'offer' && !this.initiator && other.initiator && this.state === 'new' && other.state === 'new') {
      this.pair(other)
      this.emit(() => this.events.onSignal(this.sdp({ t: 'answer', c: this.cid })))
    } else if (data.t === 'answer' && this.initiator && this.peer === other && this.state === 'paired') {
      this.connect(other)
    }
  }

  send(data: Uint8Array): void {
    const remoteNode = this.remoteNode
    if (this.state !== 'open' || remoteNode === undefined) return
    const net = this.net
    if (this.stalled.length > 0 || remoteNode.crashed || net.blocks(this.local.id, this.remote)) {
      this.stalled.push(data)
      this.buffered += data.length
      return
    }
    const now = net.sim.now
    const node = this.local
    const wire = net.wireBytes(data.length)
    const up = node.upBytesPerSec
    const start = Math.max(now, node.upFreeAt)
    const done = up > 0 ? start + (wire * 1000) / up : start
    node.upFreeAt = done
    node.messagesSent++
    node.bytesSent += data.length
    node.wireBytesSent += wire
    node.traffic?.add(data, wire)
    if (done > now) {
      const at = this.pendingEnd++
      this.pendingDone[at] = done
      this.pendingSize[at] = data.length
      this.pendingLastDone = done
      this.pendingBytes += data.length
      this.buffered += data.length
      this.scheduleDrain()
    }
    const oneWay = this.oneWayMs
    let arrival = done + oneWay + net.jitterMs() + net.lossDelayMs(wire, 2 * oneWay)
    if (arrival < this.lastArrival) arrival = this.lastArrival
    this.lastArrival = arrival
    const arrive = this.peerArrive
    if (arrive !== undefined) {
      // One more receiver of a broadcast on this shard: its decoded frame waits for it.
      if (data === net.frames.sharing) net.frames.sent(data)
      net.sim.post(arrival, arrive, data)
    } else net.port!.post(this.farShard, RecordKind.DATA, arrival, this.farCid, data)
  }

  /** A message from another shard reaches this end at `time`. */
  arriveAt(time: number, data: Uint8Array): void {
    this.net.sim.post(time, this.onArrive, data)
  }


  /** The partition changed: data held for an unreachable remote goes out if it is reachable now. */
  resume(): void {
    if (this.state !== 'open' || this.stalled.length === 0 || !this.net.reachable(this.local.id, this.remote)) return
    const held = this.stalled
    this.stalled = []
    for (const data of held) {
      this.buffered -= data.length
      this.send(data)
    }
  }

  close(): void {
    if (this.state === 'closed') return
    const peer = this.peer
    this.shutdown()
    // Before ICE found a path nothing reaches the other end; it fails by itself.
    if (this.outcome === 'fail' || !this.net.reachable(this.local.id, this.remote)) return
    const oneWay = this.oneWayMs
    if (peer !== undefined) this.net.sim.after(oneWay, () => peer.remoteClosed())
    else if (this.farCid >= 0) this.net.port!.post(this.farShard, RecordKind.CLOSED, this.net.sim.now + oneWay, this.farCid)
  }

  /** The node crashed: silent, the remote is not told. */
  die(): void {
    this.shutdown()
  }

  private shutdown(): void {
    this.state = 'closed'
    if (this.drainEvent !== undefined) this.net.sim.cancel(this.drainEvent)
    this.drainEvent = undefined
    this.clearPending()
    this.stalled = []
    this.buffered = 0
    this.net.forget(this)
  }

  private clearPending(): void {
    this.pendingHead = 0
    this.pendingEnd = 0
    this.pendingBytes = 0
  }

  /** The other end closed (called one way's latency later, or by a record from its shard). */
  remoteClosed(): void {
    if (this.state === 'closed') return
    this.shutdown()
    this.events.onClose('remote-closed')
  }

  private pair(other: SimConnection): void {
    this.peer = other
    other.peer = this
    this.peerArrive = other.onArrive
    other.peerArrive = this.onArrive
    this.remoteNode = other.local
    other.remoteNode = this.local
    this.remoteIndex = other.local.index
    other.remoteIndex = this.local.index
    this.outcome = other.outcome = this.net.outcome(this.local.id, this.remote)
    this.oneWayMs = other.oneWayMs = this.pathOneWayMs()
    this.state = 'paired'
    other.state = 'paired'
    this.startChecks() // the responder has the offer's candidates
  }

  /** One-way latency of the path ICE selects: a TURN relay's detour on top. */
  private pathOneWayMs(): number {
    const base = this.net.oneWayMs(this.local.id, this.remote)
    return this.outcome === 'relay' ? base + this.net.init.ice.turnExtraMs : base
  }

  /**
   * This end has the other's candidates and starts its checks: when no pair
   * of candidates can work, they fail `iceFailMs` later. (Each end times its
   * own checks; nothing crosses between shards.)
   */
  private startChecks(): void {
    this.checking = true
    if (this.outcome !== 'fail') return
    this.net.sim.after(this.net.init.iceFailMs, () => {
      if (this.state !== 'paired' || this.local.crashed) return
      this.shutdown()
      this.events.onClose('ice-failed')
    })
  }

  failure(): ConnectFailure | undefined {
    if (this.outcome !== 'fail' || !this.checking || this.remoteNode === undefined) return undefined
    return iceFailure(this.local.spec.nat, this.remoteNode.spec.nat, this.net.init.ice)
  }

  /**
   * Signaling from an end another shard runs. Its state cannot be read from
   * here: the responder pairs on the offer, the initiator on the answer (a
   * stale or repeated one finds this end no longer new), each with its own half.
   */
  private signalFar(cid: number, type: unknown): void {
    const ok = this.state === 'new' && ((type === 'offer' && !this.initiator) || (type === 'answer' && this.initiator))
    const remoteNode = this.net.node(this.remote)
    if (!ok || remoteNode === undefined) return
    this.farCid = cid
    this.farShard = this.net.shardOfConnection(cid)
    this.remoteNode = remoteNode
    this.remoteIndex = remoteNode.index
    this.outcome = this.net.outcome(this.local.id, this.remote)
    this.oneWayMs = this.pathOneWayMs()
    this.state = 'paired'
    if (type === 'offer') {
      this.startChecks()
      this.emit(() => this.events.onSignal(this.sdp({ t: 'answer', c: this.cid })))
    } else this.connect(undefined)
  }

  /** The answer reached the initiator: ICE checks, DTLS and SCTP take a few RTTs. */
  private connect(responder: SimConnection | undefined): void {
    const net = this.net
    this.startChecks()
    if (this.outcome === 'fail' || !net.reachable(this.local.id, this.remote)) return
    const oneWay = this.oneWayMs
    const openAt = net.sim.now + net.init.setupFixedMs + net.init.setupRtts * 2 * oneWay
    if (responder !== undefined) net.sim.at(openAt - oneWay, () => responder.opened())
    else net.port!.post(this.farShard, RecordKind.OPENED, openAt - oneWay, this.farCid)
    net.sim.at(openAt, () => this.opened())
  }

  /** Setup done at this end (the responder's may be opened by a record from the initiator's shard). */
  opened(): void {
    if (this.state !== 'paired' || this.local.crashed) return
    this.state = 'open'
    const outcome = this.outcome
    if (outcome !== undefined && outcome !== 'fail') this.path = simPath(outcome, this.local.spec.nat, this.remoteNode!.spec.nat, 2 * this.oneWayMs)
    this.events.onOpen()
  }

  /** A message reached this node: through its downlink, if that is limited. */
  private readonly onArrive = (data: Uint8Array): void => {
    // A crash closes every connection of the node (SimNetwork.crash), so the state says it all.
    if (this.state !== 'open') return
    const node = this.local
    const down = node.downBytesPerSec
    if (down > 0) {
      const now = this.net.sim.now
      const done = Math.max(now, node.downFreeAt) + (this.net.wireBytes(data.length) * 1000) / down
      node.downFreeAt = done
      this.net.sim.post(done, this.onDeliver, data)
    } else {
      this.deliver(data)
    }
  }

  /** After the downlink: a closure only for that case, a delivery otherwise is a method call. */
  private readonly onDeliver = (data: Uint8Array): void => this.deliver(data)

  private deliver(data: Uint8Array): void {
    if (this.state !== 'open') return
    const node = this.local
    node.messagesReceived++
    node.bytesReceived += data.length
    node.wireBytesReceived += this.net.wireBytes(data.length)
    const sim = this.net.sim
    sim.traceInts(this.remoteIndex, this.local.index, data.length)
    if (this.net.init.traceMessages) sim.traceBytes(data)
    this.events.onData(data)
  }

  /** Fires onDrain when the buffer falls to the threshold, as `bufferedamountlow` does. */
  private scheduleDrain(): void {
    if (this.drainEvent !== undefined || this.bufferedAmount <= this.bufferedAmountLowThreshold) return
    let left = this.buffered
    let when = this.net.sim.now
    for (let i = this.pendingHead; i < this.pendingEnd; i++) {
      left -= this.pendingSize[i]!
      when = this.pendingDone[i]!
      if (left <= this.bufferedAmountLowThreshold) break
    }
    this.drainEvent = this.net.sim.at(when, () => {
      this.drainEvent = undefined
      if (this.state !== 'open') return
      if (this.bufferedAmount <= this.bufferedAmountLowThreshold) this.events.onDrain()
      else this.scheduleDrain()
    })
  }

  /** Transport callbacks never run inside the call that caused them. */
  private emit(fn: () => void): void {
    this.net.sim.after(0, () => {
      if (this.state !== 'closed' && !this.local.crashed) fn()
    })
  }
}
