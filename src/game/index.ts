import type { WorldArea } from '../peer/world-area.js'
import type { Intents } from '../ui/intents.js'
import type { JoinTimeline } from '../ui/join-timeline.js'
import type { WorldStores } from '../ui/stores.js'
import { mountChat } from './chat-box.js'
import { byId } from './dom.js'
import { FrameRecorder } from './frame-stats.js'
import { mountHud } from './hud.js'
import { bindKeyboard } from './keyboard.js'
import { mountMinimap } from './minimap.js'
import { mountPanels } from './panels.js'
import { mountInspectorPanel, mountProfile } from './side-panel.js'
import { startGame } from './start-game.js'
import type { Terrain } from '../ui/terrain.js'

export interface GameInit {
  stores: WorldStores
  intents: Intents
  area: WorldArea
  /** The world's map (src/ui/terrain.ts, from its name). */
  terrain: Terrain
  now: () => number
  /** Marks when the scene starts and first draws a neighbour. */
  timeline?: JoinTimeline
}

/** The rendered page: Phaser world, HUD, minimap, chat, profile and inspector panels. */
export function mountGame(init: GameInit): { frames: FrameRecorder } {
  const frames = new FrameRecorder()
  const { stores, intents } = init
  const { terrain } = init
  startGame(byId('game'), { ...init, terrain, frames })
  mountHud(stores, intents, frames)
  mountMinimap(byId('minimap').querySelector('canvas')!, stores, init.area, terrain, init.now)
  const chat = mountChat(stores, intents)
  mountProfile(stores, intents)
  mountInspectorPanel(stores)
  mountPanels(stores)
  bindKeyboard(intents, () => chat.focus())
  return { frames }
}
