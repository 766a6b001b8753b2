import { decodeValue } from '../../core/codec.js'
import type { PeerId } from '../../core/id.js'
import { AssetMsg, MAX_RID, decodeReply, decodeRequest, ridOf, type AssetReply, type AssetRequest } from '../../services/assets/asset-messages.js'
import { CHUNK_BYTES, MAX_ASSET_BYTES, MAX_CHUNKS, buildAsset, openManifest, type Manifest } from '../../services/assets/manifest.js'
import { ChatService, MAX_CHAT_CHARS, type ChatComponents, type ChatStats } from '../../services/chat/chat.js'
import type { MessageHandler } from '../../link/link-types.js'
import { MAX_NAME_CHARS, decodeProfile, encodeProfile } from '../../services/presence/profile.js'
import { PLAYER_LIMITS, decodePlayerData, encodePlayerData } from '../../services/player-state/player-data.js'
import { hasUnsafeChars, isBytesOf, isCoord, isHexId, isUintMax, needRoundTrip } from '../bounds.js'
import { FakeCrypto } from '../fake-crypto.js'
import type { Gen } from '../gen.js'
import { peerId, playerData, profile } from '../seeds.js'
import { bytesTarget, fuzzCase, need, valueTarget, type FuzzTarget } from '../target.js'

const crypto = new FakeCrypto()
const REQUEST_TYPES = [AssetMsg.GET_MANIFEST, AssetMsg.GET_CHUNK]
const REPLY_TYPES = [AssetMsg.MANIFEST, AssetMsg.CHUNK, AssetMsg.ERROR]

type Typed = { type: number; v: unknown }

/** A payload and the frame type it came with: usually its own, sometimes another. */
function typed(gen: Gen, types: readonly number[], make: (type: number) => unknown): Typed {
  const type = gen.r.pick(types)
  const v = gen.payload(() => make(type)) // small messages: made fresh, not pooled
  return { type: gen.r.chance(0.9) ? type : gen.r.chance(0.5) ? gen.r.pick(types) : gen.r.int(256), v }
}

function chatTarget(): FuzzTarget {
  return {
    name: 'chat',
    what: 'src/services/chat/chat.ts ChatService (SAY handler)',
    create(gen) {
      const neighbours = [peerId(gen.r), peerId(gen.r), peerId(gen.r)]
      let now = 0
      let handler: MessageHandler | undefined
      const links: ChatComponents['links'] = { broadcast: () => 0, handle: (_p: number, _t: number, h: MessageHandler) => void (handler = h) } as unknown as ChatComponents['links']
      const chat = new ChatService({
        env: { clock: { now: () => now } },
        links,
        localId: peerId(gen.r),
        audience: () => neighbours,
        isNeighbour: (id) => neighbours.includes(id),
      })
      const stranger = peerId(gen.r)
      const texts = ['hello', 'é東 😀', ' spaced   out ', 'x'.repeat(MAX_CHAT_CHARS), 'y'.repeat(1024), '\u202eevil\u200b']
      let before: ChatStats = { ...chat.stats }
      let heard = 0
      chat.onMessage(() => heard++)
      return fuzzCase<{ from: PeerId; payload: unknown }, boolean>({
        next: () => ({ from: gen.r.chance(0.9) ? gen.r.pick(neighbours) : stranger, payload: gen.payload(() => gen.r.pick(texts)) }),
        run: ({ from, payload }) => {
          now += gen.r.int(2000)
          before = { ...chat.stats }
          heard = 0
          handler!(from, payload)
          return chat.stats.received > before.received
        },
        accepted: (out) => out,
        check: (_input, out) => {
          const s = chat.stats
          const counted = s.received + s.invalid + s.rateLimited + s.notNeighbour - (before.received + before.invalid + before.rateLimited + before.notNeighbour)
          need(counted === 1, 'each message counted once, as received or as dropped')
          need(heard === (out === true ? 1 : 0), 'listeners hear exactly the received messages')
          const history = chat.recent()
          need(history.length <= 50, 'history bounded')
          if (out !== true) return
          const text = history[history.length - 1]!.text
          need(text.length > 0 && text.length <= MAX_CHAT_CHARS && !hasUnsafeChars(text), `received text sanitized, 1..${MAX_CHAT_CHARS} characters`)
        },
      })
    },
  }
}

export const servicesTargets: FuzzTarget[] = [
  {
    name: 'asset-request',
    what: 'src/services/assets/asset-messages.ts decodeRequest, ridOf',
    create(gen) {
      const make = (type: number) => (type === AssetMsg.GET_MANIFEST ? [gen.r.u32(), gen.r.bytes(32)] : [gen.r.u32(), gen.r.bytes(32), gen.r.int(MAX_CHUNKS)])
      return fuzzCase<Typed, { req: AssetRequest | null; rid: number | null }>({
        next: () => typed(gen, REQUEST_TYPES, make),
        run: ({ type, v }) => ({ req: decodeRequest(type, v), rid: ridOf(v) }),
        accepted: (out) => out.req !== null,
        check: ({ type }, { req, rid }) => {
          need(rid === null || isUintMax(rid, MAX_RID), 'ridOf: a u32 or null')
          if (req === null) return
          need(isUintMax(req.rid, MAX_RID) && req.rid === rid && isBytesOf(req.id, 32), 'rid and a 32-byte asset id')
          need(type === AssetMsg.GET_MANIFEST ? req.index === -1 : type === AssetMsg.GET_CHUNK && isUintMax(req.index, MAX_CHUNKS - 1), 'index -1 for a manifest, a chunk index for a chunk')
        },
      })
    },
  },
  {
    name: 'asset-reply',
    what: 'src/services/assets/asset-messages.ts decodeReply',
    create(gen) {
      const make = (type: number) => [gen.r.u32(), type === AssetMsg.ERROR ? gen.r.range(1, 3) : gen.r.bytes(type === AssetMsg.MANIFEST ? gen.r.int(2049) : gen.r.pick([0, 1, 100, CHUNK_BYTES]))]
      return fuzzCase<Typed, AssetReply | null>({
        next: () => typed(gen, REPLY_TYPES, make),
        run: ({ type, v }) => decodeReply(type, v),
        accepted: (out) => out !== null,
        check: ({ type }, reply) => {
          if (reply === null) return
          need(isUintMax(reply.rid, MAX_RID), 'rid a u32')
          if (reply.kind === 'error') need(type === AssetMsg.ERROR && isUintMax(reply.code, 255), 'an error code is a byte, on ERROR only')
          else need(type !== AssetMsg.ERROR && reply.bytes.length <= (type === AssetMsg.MANIFEST ? 2048 : CHUNK_BYTES), 'data within the size of its type')
        },
      })
    },
  },
  {
    // The attacker names the asset id of its own garbage, so the id check passes and the decoding is what is tested.
    name: 'asset-manifest',
    what: 'src/services/assets/manifest.ts openManifest',
    create(gen) {
      // A few manifests made once (hashing a quarter megabyte per frame would be the cost), as values so structural mutations reach their fields.
      const sizes = [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1, 40_000, MAX_ASSET_BYTES]
      const manifests = sizes.map((n) => decodeValue(buildAsset(crypto, gen.r.bytes(n), gen.r.pick(['image/png', 'a/b'])).manifestBytes))
      const seed = () => gen.r.pick(manifests)
      return fuzzCase<Uint8Array, Manifest | null>({
        next: () => gen.bytes(seed),
        run: (input) => openManifest(crypto, crypto.sha256(input), input),
        accepted: (out) => out !== null,
        check: (_input, m) => {
          if (m === null) return
          need(isUintMax(m.size, MAX_ASSET_BYTES) && m.mime.length <= 64 && isBytesOf(m.hash, 32), 'size, MIME type and hash')
          need(m.chunks.length === Math.max(1, Math.ceil(m.size / CHUNK_BYTES)) && m.chunks.every((c) => isBytesOf(c, 32)), 'one 32-byte hash per chunk')
        },
      })
    },
  },
  valueTarget('profile', 'src/services/presence/profile.ts decodeProfile', (g) => () => profile(g.r), decodeProfile, (m) => {
    const p = m.profile
    need(p.name.length > 0 && p.name.length <= MAX_NAME_CHARS && !hasUnsafeChars(p.name), `name sanitized, 1..${MAX_NAME_CHARS} characters`)
    need(isUintMax(p.colour, 0xffffff) && (p.avatar === null || isHexId(p.avatar)), 'colour 0xRRGGBB, avatar null or a hex id')
    needRoundTrip(m, decodeProfile(encodeProfile(p, m.want)), 'profile')
  }),
  bytesTarget('player-data', 'src/services/player-state/player-data.ts decodePlayerData', (g) => () => playerDataWire(g), decodePlayerData, (d, input) => {
    const wire = decodeValue(input) as unknown[]
    need(d.inventory.length === (wire[5] as unknown[]).length && Object.keys(d.stats).length === (wire[6] as unknown[]).length, 'every item and stat of the record kept')
    const L = PLAYER_LIMITS
    need(typeof d.name === 'string' && d.name.length <= L.nameChars, 'name bounded')
    need(isCoord(d.x, Number.MAX_VALUE) && isCoord(d.y, Number.MAX_VALUE), 'position finite')
    need(d.appearance === null || isBytesOf(d.appearance, 32), 'appearance null or 32 bytes')
    need(d.inventory.length <= L.items && d.inventory.every((i) => i.item.length <= L.itemChars && isUintMax(i.count, L.maxCount)), 'inventory bounded')
    const keys = Object.keys(d.stats)
    need(keys.length <= L.stats && keys.every((k) => k.length <= L.statChars && isCoord(d.stats[k], Number.MAX_VALUE)), 'stats bounded and finite')
    needRoundTrip(d, decodePlayerData(encodePlayerData(d)), 'player data')
  }),
  chatTarget(),
]

/** Player data in its wire form, as an array (so structural mutations reach each field). */
function playerDataWire(g: Gen): unknown {
  const d = playerData(g.r)
  return [1, d.name, d.x, d.y, d.appearance, d.inventory.map((i) => [i.item, i.count]), Object.entries(d.stats)]
}
