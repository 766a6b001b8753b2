import * as Phaser from 'phaser'
import type { FrameRecorder } from './frame-stats.js'
import { WorldScene, type SceneDeps } from './world-scene.js'

/**
 * Starts Phaser in `parent`, sized to it. Loaded with a dynamic import, so a
 * headless page (bots) never downloads or runs the renderer.
 */
export function startGame(parent: HTMLElement, deps: SceneDeps & { frames: FrameRecorder }): Phaser.Game {
  return new Phaser.Game({
    type: Phaser.AUTO,
    parent,
    backgroundColor: '#10141a',
    scale: { mode: Phaser.Scale.RESIZE, width: parent.clientWidth, height: parent.clientHeight },
    banner: false,
    disableContextMenu: true,
    // The page owns the keyboard (text fields): Phaser must not capture keys.
    input: { keyboard: false },
    scene: new WorldScene(deps),
  })
}
