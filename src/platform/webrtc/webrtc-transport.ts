import { SILENT_LOG, type Clock, type Crypto, type KeyPair, type Log, type Rng, type Timers } from '../../core/env.js'
import { peerIdFromPublicKey, type PeerId } from '../../core/id.js'
import type { Connection, ConnectionEvents, Transport } from '../../link/transport.js'
import type { IceServer } from '../ice-servers.js'
import { AUTH_NONCE_BYTES } from './link-auth.js'
import { WebRtcConnection } from './webrtc-connection.js'
import { guardWrtc } from './wrtc-guard.js'

export interface WebRtcTransportComponents {
  /** This peer's identity: connections prove it to the remote. */
  keyPair: KeyPair
  crypto: Crypto
  clock: Clock
  timers: Timers
  /** Nonces for peer authentication; must be cryptographically strong. */
  rng: Rng
  /** @default SILENT_LOG */
  log?: Log
  /** Node only: the `@roamhq/wrtc` module. Browsers use their own WebRTC. */
  wrtc?: object
  /** Hears each connection start (`dial`) and open (`open`): the page's join timeline. */
  observe?: (event: 'dial' | 'open', remote: PeerId) => void
}

export interface WebRtcTransportInit {
  /**
   * STUN and TURN servers until {@link WebRtcTransport.setIceServers} changes
   * them (the signaling node hands them out). None by default: host candidates
   * are enough on one machine or LAN; across NATs a peer needs STUN, and TURN
   * where a symmetric NAT is on the path.
   * @default []
   */
  iceServers?: IceServer[]
  /** Close a connection whose peer has not proved its id this long after the channel opened. @default 5000 */
  authTimeoutMs?: number
  /** Where `bufferedamountlow` is missing (@roamhq/wrtc), how often to poll a full buffer. @default 2 */
  drainPollMs?: number
  /**
   * Where reading `bufferedAmount` is costly (@roamhq/wrtc), reuse a sample this
   * young plus the bytes sent since.
   * @default 1
   */
  bufferedSampleMs?: number
  /** Largest SDP accepted from a remote. @default 16384 */
  maxSdpBytes?: number
  /** ICE candidates accepted per connection; the rest are ignored. @default 64 */
  maxCandidates?: number
  /** How often an open connection reads its selected candidate pair (path kind, ICE RTT) again. @default 10000 */
  pathRefreshMs?: number
  /**
   * 'relay' uses TURN only: every link goes through the TURN server (a check
   * that TURN works, `?relay=1`). @default 'all'
   */
  iceTransportPolicy?: 'all' | 'relay'
}

/**
 * WebRTC data channels through simple-peer, in the browser and in Node (with
 * `@roamhq/wrtc`). Every connection authenticates both peer ids before it opens.
 */
export class WebRtcTransport implements Transport {
  readonly localId: PeerId
  private readonly c: WebRtcTransportComponents & { log: Log }
  private readonly init: Required<WebRtcTransportInit>
  private servers: readonly IceServer[]

  constructor(components: WebRtcTransportComponents, init: WebRtcTransportInit = {}) {
    this.c = { ...components, log: components.log ?? SILENT_LOG }
    if (components.wrtc !== undefined) this.c.wrtc = guardWrtc(components.wrtc)
    this.localId = peerIdFromPublicKey(components.crypto, components.keyPair.publicKey)
    this.init = {
      iceServers: init.iceServers ?? [],
      authTimeoutMs: init.authTimeoutMs ?? 5000,
      drainPollMs: init.drainPollMs ?? 2,
      bufferedSampleMs: init.bufferedSampleMs ?? 1,
      maxSdpBytes: init.maxSdpBytes ?? 16 * 1024,
      maxCandidates: init.maxCandidates ?? 64,
      pathRefreshMs: init.pathRefreshMs ?? 10_000,
      iceTransportPolicy: init.iceTransportPolicy ?? 'all',
    }
    this.servers = this.init.iceServers
  }

  /** The ICE servers new connections use. */
  get iceServers(): readonly IceServer[] {
    return this.servers
  }

  /** Links go through TURN only (`iceTransportPolicy: 'relay'`). */
  get relayOnly(): boolean {
    return this.init.iceTransportPolicy === 'relay'
  }

  /** Changes the ICE servers of connections opened from now on (open ones keep theirs). */
  setIceServers(servers: readonly IceServer[]): void {
    this.servers = servers
  }

  open(remote: PeerId, initiator: boolean, events: ConnectionEvents): Connection {
    const nonce = this.c.rng.bytes(AUTH_NONCE_BYTES)
    this.c.observe?.('dial', remote)
    return new WebRtcConnection(this.c, { ...this.init, iceServers: this.servers, localId: this.localId, remote, initiator, nonce }, events)
  }
}
