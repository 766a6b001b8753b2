import type { Intents } from '../ui/intents.js'
import type { WorldStores } from '../ui/stores.js'
import { byId, tag } from './dom.js'

/** The chat log and input; returns a function that focuses the input. */
export function mountChat(stores: WorldStores, intents: Intents): { focus(): void } {
  const log = byId('chat-log')
  const input = byId<HTMLInputElement>('chat-input')
  let shown = -1
  const render = (): void => {
    const lines = stores.chat.getState().lines
    const last = lines[lines.length - 1]?.id ?? 0
    if (last === shown) return
    shown = last
    log.replaceChildren(...lines.slice(-60).map((l) => {
      if (l.system === true) return tag('p', l.text, 'sys')
      const p = tag('p', '', l.self ? 'me' : undefined)
      p.append(tag('b', `${l.name}: `), document.createTextNode(l.text))
      return p
    }))
    log.scrollTop = log.scrollHeight
  }
  stores.chat.subscribe(render)
  render()
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      if (input.value.trim() !== '') intents.chat(input.value)
      input.value = ''
      input.blur()
      e.preventDefault()
    } else if (e.key === 'Escape') {
      input.blur()
    }
    e.stopPropagation()
  })
  return { focus: () => input.focus() }
}
