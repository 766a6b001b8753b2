/**
 * What the game (and the test hook) may ask for. Scenes call these; they never
 * touch the peer. Implemented by {@link Controller}.
 */
export interface Intents {
  /** Click-to-move: walk towards (x, y) in world units. */
  moveTo(x: number, y: number): void
  /** The direction the movement keys hold now ((0, 0) when released). */
  setHeld(dx: number, dy: number): void
  /** Says `text` to the players in the AOI; false when it was not sent (empty, too long, no chat service). */
  chat(text: string): boolean
  setName(name: string): void
  /** Checks, resizes and publishes an avatar image; rejects with an AvatarError a person can read. */
  setAvatar(file: Blob): Promise<void>
  /** Shows or hides the network inspector (toggles without an argument). */
  toggleInspector(open?: boolean): void
  /** The identity file's text, to download. */
  exportIdentity(): Promise<string>
  /** Becomes the player of an identity file and reloads; rejects when the file is not one. */
  importIdentity(text: string): Promise<void>
  /** Reconnects at once instead of waiting for the backoff. */
  retryNow(): void
}
