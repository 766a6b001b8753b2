import type { SavedPlayer } from '../platform/browser/tab-slot.js'
import { byId } from './dom.js'

/**
 * Asks which saved player this new tab plays (index.html's #player-picker):
 * one button per saved player no other tab is playing, and "New player".
 * Plain DOM, so it runs before the game (and Phaser) loads.
 */
export function pickPlayer(choices: readonly SavedPlayer[]): Promise<number | 'new'> {
  const panel = byId('player-picker')
  const list = byId('player-picker-choices')
  return new Promise((resolve) => {
    const done = (v: number | 'new'): void => {
      panel.hidden = true
      list.replaceChildren()
      resolve(v)
    }
    const button = (label: string, v: number | 'new'): HTMLButtonElement => {
      const b = document.createElement('button')
      b.type = 'button'
      b.textContent = label
      b.dataset.slot = String(v)
      b.addEventListener('click', () => done(v))
      return b
    }
    list.replaceChildren(...choices.map((c) => button(c.name ?? `player ${c.slot + 1}`, c.slot)), button('New player', 'new'))
    panel.hidden = false
    ;(list.firstElementChild as HTMLButtonElement | null)?.focus()
  })
}
