/** Small DOM helpers for the overlay panels. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`index.html lacks #${id}`)
  return el as T
}

export function tag(name: string, text: string, className?: string): HTMLElement {
  const e = document.createElement(name)
  e.textContent = text
  if (className !== undefined) e.className = className
  return e
}

/** Rows of a <dl>, replacing what it held. */
export function fillList(dl: HTMLElement, rows: readonly (readonly [string, string])[]): void {
  dl.replaceChildren(...rows.flatMap(([k, v]) => [tag('dt', k), tag('dd', v)]))
}

export const hex = (rgb: number): string => `#${rgb.toString(16).padStart(6, '0')}`

export function short(id: string): string {
  return `${id.slice(0, 8)}…`
}
