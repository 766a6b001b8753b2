import { AvatarError } from '../ui/avatar-image.js'
import type { Intents } from '../ui/intents.js'
import type { WorldStores } from '../ui/stores.js'
import { byId, fillList, hex, short, tag } from './dom.js'
import { DHT_COLOUR, KIND_COLOURS, linkColour, RELAY_COLOUR } from './colours.js'

/** The player's own panel: avatar picker, name, identity export and import. */
export function mountProfile(stores: WorldStores, intents: Intents): void {
  const img = byId<HTMLImageElement>('me-avatar')
  const name = byId<HTMLInputElement>('name')
  const avatarError = byId('avatar-error')
  const identityError = byId('identity-error')
  const show = (el: HTMLElement, text: string | undefined): void => {
    el.hidden = text === undefined
    el.textContent = text ?? ''
  }
  const render = (): void => {
    const s = stores.self.getState()
    if (s.avatarUrl !== undefined && img.src !== s.avatarUrl) img.src = s.avatarUrl
    img.style.background = hex(s.color)
    if (document.activeElement !== name) name.value = s.name
  }
  stores.self.subscribe(render)
  render()
  name.addEventListener('change', () => intents.setName(name.value))
  name.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') name.blur()
  })
  onFile('avatar-file', (file) => {
    show(avatarError, undefined)
    intents.setAvatar(file).catch((err: unknown) => show(avatarError, err instanceof AvatarError ? err.message : 'That image could not be used.'))
  })
  byId('export').addEventListener('click', () => {
    intents.exportIdentity().then((text) => {
      const a = document.createElement('a')
      a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }))
      a.download = `p2p-world-${stores.self.getState().name.replace(/[^\w-]+/g, '_')}.identity.json`
      a.click()
      window.setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
    }, (err: unknown) => show(identityError, (err as Error).message))
  })
  onFile('import-file', (file) => {
    show(identityError, undefined)
    if (!window.confirm('Become the player in this file? This browser tab forgets its current player (export it first to keep it) and reloads.')) return
    file.text().then((t) => intents.importIdentity(t)).catch((err: unknown) => show(identityError, (err as Error).message))
  })
}

/** Calls `fn` with the file picked in the input `id`; the input is cleared so the same file can be picked again. */
function onFile(id: string, fn: (file: File) => void): void {
  byId<HTMLInputElement>(id).addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement
    const file = input.files?.[0]
    input.value = ''
    if (file !== undefined) fn(file)
  })
}

const swatch = (rgb: number, label: string): HTMLElement => {
  const s = tag('span', '')
  s.className = 'swatch'
  s.style.background = hex(rgb)
  const wrap = tag('div', '')
  wrap.append(s, document.createTextNode(label))
  return wrap
}

/** The inspector's side panel: legend, queue depths, links by protocol, DHT contacts. */
export function mountInspectorPanel(stores: WorldStores): void {
  const section = byId('inspector')
  byId('inspector-legend').replaceChildren(
    swatch(KIND_COLOURS.enclosing, 'enclosing neighbour'),
    swatch(KIND_COLOURS.boundary, 'boundary neighbour'),
    swatch(KIND_COLOURS.aoi, 'in the AOI'),
    swatch(KIND_COLOURS.other, 'known, outside the AOI'),
    swatch(linkColour(['von']), 'link kept by VON'),
    swatch(linkColour(['dht']), 'link kept by the DHT'),
    swatch(linkColour(['von', 'dht']), 'kept by both'),
    swatch(linkColour(['assets']), 'kept by another protocol only (an asset transfer)'),
    swatch(linkColour([]), 'link nobody insists on (GC may close it)'),
    swatch(RELAY_COLOUR, 'link relayed through a TURN server'),
    swatch(DHT_COLOUR, 'DHT contact (dot)'),
  )
  const stats = byId('inspector-stats')
  const links = byId('inspector-links')
  const dht = byId('inspector-dht')
  const render = (): void => {
    const s = stores.inspector.getState()
    section.hidden = !s.open
    if (!s.open) return
    const kinds = (k: string): number => s.marks.filter((m) => m.kinds.includes(k as never)).length
    fillList(stats, [
      ['cells', `${s.cells.length}`],
      ['enclosing', `${kinds('enclosing')}`],
      ['boundary', `${kinds('boundary')}`],
      ['in AOI', `${kinds('aoi')}`],
      ['queues', s.queues.map((q, i) => `${['H', 'M', 'L'][i]} ${q.count}`).join(' · ')],
    ])
    links.replaceChildren(...s.links.map((l) => tag('li', `${short(l.id)} ${l.protocols.join('+') || '—'} ${l.path ?? '?'} q ${l.queues.join('/')}`)))
    dht.replaceChildren(...s.dhtContacts.map((c) => tag('li', `${short(c.id)} bucket ${c.bucket}${c.linked ? ' · linked' : ''}`)))
  }
  stores.inspector.subscribe(render)
  render()
}
