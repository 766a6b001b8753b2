import type { Intents } from '../ui/intents.js'

const DIRECTIONS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0],
  KeyW: [0, -1], KeyS: [0, 1], KeyA: [-1, 0], KeyD: [1, 0],
}

/** Typing in a text field must not walk the avatar. */
function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null
  return t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)
}

/**
 * Movement keys (WASD, arrows) as a held direction, `I` for the inspector and
 * Enter to focus the chat box. DOM listeners rather than Phaser's keyboard, so
 * text fields keep their keys.
 */
export function bindKeyboard(intents: Intents, focusChat: () => void): () => void {
  const held = new Set<string>()
  const update = (): void => {
    let dx = 0
    let dy = 0
    for (const code of held) {
      dx += DIRECTIONS[code]?.[0] ?? 0
      dy += DIRECTIONS[code]?.[1] ?? 0
    }
    intents.setHeld(dx, dy)
  }
  const down = (e: KeyboardEvent): void => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return
    if (DIRECTIONS[e.code] !== undefined) {
      held.add(e.code)
      update()
      e.preventDefault()
    } else if (e.code === 'KeyI' && !e.repeat) {
      intents.toggleInspector()
    } else if (e.code === 'Enter') {
      focusChat()
      e.preventDefault()
    }
  }
  const up = (e: KeyboardEvent): void => {
    if (held.delete(e.code)) update()
  }
  const blur = (): void => {
    held.clear()
    update()
  }
  window.addEventListener('keydown', down)
  window.addEventListener('keyup', up)
  window.addEventListener('blur', blur)
  return () => {
    window.removeEventListener('keydown', down)
    window.removeEventListener('keyup', up)
    window.removeEventListener('blur', blur)
  }
}
