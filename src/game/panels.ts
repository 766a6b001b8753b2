import type { WorldStores } from '../ui/stores.js'
import { byId } from './dom.js'

/**
 * Windows this small start with the side panel folded; the HUD folds below a
 * larger size, since at the default zoom its open table reaches into the AOI
 * circle (where your neighbours are) in a window under about 1400 x 900.
 */
export const SMALL_WINDOW = '(max-width: 900px), (max-height: 700px)'
export const HUD_FOLD_WINDOW = '(max-width: 1400px), (max-height: 900px)'

/**
 * The HUD and the side panel fold to their title (a tap or click on it
 * toggles); in a small window they start folded. Opening the
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
  fold('hud', 'hud-toggle')(window.matchMedia(HUD_FOLD_WINDOW).matches)
  const side = fold('side', 'side-toggle')
  side(window.matchMedia(SMALL_WINDOW).matches)
  stores.inspector.subscribe((s, prev) => {
    if (s.open && !prev.open) side(false)
  })
}
