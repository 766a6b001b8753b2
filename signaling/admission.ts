import type { IncomingMessage } from 'node:http'
import type { Clock, Log } from '../src/core/env.js'
import { AddressLimits } from './address-limits.js'
import { addressKey, clientAddress } from './client-address.js'
import type { SignalingServerOptions } from './options.js'
import { OriginPolicy } from './origins.js'

/** What ws hands `verifyClient`. */
export interface UpgradeInfo {
  origin: string | undefined
  req: IncomingMessage
}

export interface AdmissionStats {
  /** Upgrades refused for their Origin (HTTP 403). */
  refusedOrigin: number
  /** Upgrades refused for their address's sockets or authentications (HTTP 429). */
  refusedAddress: number
}

const LOG_ORIGIN_REFUSALS_EVERY_MS = 60_000

/**
 * The node's door: which upgrades are refused before a WebSocket exists (a
 * foreign Origin, an address at its cap), and the per-address bookkeeping of
 * the sockets let in. Refusing at the upgrade costs a map lookup and a short
 * HTTP answer, so an address that keeps trying slows nobody else down.
 */
export class Admission<T> {
  readonly limits: AddressLimits<T>
  private readonly origins: OriginPolicy
  private readonly trusted: ReadonlySet<string>
  private originRefusals = 0
  private originLoggedAtMs = -Infinity

  constructor(
    private readonly c: { clock: Clock; log: Log; stats: AdmissionStats },
    init: Pick<SignalingServerOptions, 'allowedOrigins' | 'trustProxy' | 'exemptAddresses' | 'maxSocketsPerAddress' | 'authsPerMinutePerAddress' | 'maxClients'>,
  ) {
    this.origins = new OriginPolicy(init.allowedOrigins)
    this.trusted = new Set(init.trustProxy.map(addressKey))
    this.limits = new AddressLimits<T>({
      maxSocketsPerAddress: init.maxSocketsPerAddress,
      authsPerMinute: init.authsPerMinutePerAddress,
      exempt: new Set(init.exemptAddresses.map(addressKey)),
      maxRecords: 4 * init.maxClients,
    })
  }

  /** The address key a request counts against (see `clientAddress`). */
  addressOf(req: IncomingMessage): string {
    return clientAddress(req, this.trusted)
  }

  /** ws's `verifyClient`: refuses with 403 (origin) or 429 (address at its cap), else lets the upgrade proceed. */
  verify(info: UpgradeInfo, done: (ok: boolean, code?: number, message?: string) => void): void {
    const now = this.c.clock.now()
    if (!this.origins.allows(info.origin, info.req.headers.host)) {
      this.c.stats.refusedOrigin++
      this.originRefusals++
      if (now - this.originLoggedAtMs >= LOG_ORIGIN_REFUSALS_EVERY_MS) {
        this.c.log.warn('refusing a page of another origin', { origin: info.origin?.slice(0, 100), refused: this.originRefusals })
        this.originRefusals = 0
        this.originLoggedAtMs = now
      }
      return done(false, 403, 'origin not allowed')
    }
    const address = this.addressOf(info.req)
    const why = this.limits.check(address, now)
    if (why === null) return done(true)
    this.c.stats.refusedAddress++
    const refused = this.limits.noteRefusal(address, now)
    if (refused !== undefined) this.c.log.warn('refusing sockets from an address', { address, why, refused })
    done(false, 429, why === 'address-full' ? 'too many connections from your address' : 'too many authentications from your address; try again in a minute')
  }
}
