import type { WorldStores } from '../ui/stores.js'
import { byId } from './dom.js'

/** Windows this small start with the HUD and the side panel folded, so they leave the map (and you) in view. */
export const SMALL_WINDOW = '(max-width: 900px), (max-height: 700px)'

/**
 * The HUD and the side panel fold to their title (a tap or click on it
 * toggles); on a phone or a small window they start folded. Opening the
 * inspector unfolds the side panel, which shows its figures.
 */
export function mountPanels(stores: WorldStores): void {
  const fold = (panelId: string, toggleId: string): ((folded: boolean) => void) => {
    const panel = byId(panelId)
    const toggle = byId(toggleId)
    const set = (folded: boolean): void => {
      panel.classList.toggle('collapsed', folded)
      toggle.setAttribute('aria-expanded', String(!folded))
    }
    toggle.addEventListener('click', () => set(!panel.classList.contains('collapsed')))
    return set
  }
  const small = window.matchMedia(SMALL_WINDOW).matches
  fold('hud', 'hud-toggle')(small)
  const side = fold('side', 'side-toggle')
  side(small)
  stores.inspector.subscribe((s, prev) => {
    if (s.open && !prev.open) side(false)
  })
}
