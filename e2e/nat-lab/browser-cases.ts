import { chromium, type Browser } from 'playwright-core'
import { CHROMIUM_ARGS } from '../../bench/lib/browser.js'
import { runBrowserCase, type BrowserSide } from './browser-case.js'
import { chromiumWrapper } from './chromium-in-ns.js'
import type { AgentClient } from './agent-client.js'
import type { Coturn } from './coturn.js'
import type { IceMode, LabCase } from './expectations.js'
import type { LabWorld } from './lab-world.js'
import type { Lab } from './netns.js'

/**
 * The Chromium part of the matrix: one browser in each home (run inside its
 * namespace), pages of the real game two by two. The lab's certificate is its
 * own, so the browsers are told to accept it.
 */
const CASES: readonly { a: string; b: string; mode: IceMode; render: boolean; anchor?: 'relay' | 'tamper' }[] = [
  // Two cone NATs with the node's servers: a direct path through STUN.
  { a: 'cone1', b: 'cone2', mode: 'stun+turn', render: false },
  // Two symmetric NATs: only TURN works (both headless, so the latency is the relay's, not a renderer's).
  { a: 'sym1', b: 'sym2', mode: 'stun+turn', render: false },
  // The same without ICE servers: no link, and the page says why.
  { a: 'sym1', b: 'sym2', mode: 'none', render: true },
  // docs/deploy.md's check that TURN works: ?relay=1 between two homes that need no relay; b renders
  // the game (the HUD counts the relay; software rendering slows b's main thread, and its move latency).
  { a: 'cone1', b: 'cone2', mode: 'relay-only', render: true },
  // Two symmetric NATs, STUN but no TURN, and one anchor (a public Node peer): they meet through it (a circuit), b renders.
  { a: 'sym1', b: 'sym2', mode: 'stun', render: true, anchor: 'relay' },
  // The same with an anchor that alters the frames it relays: b drops the link and says so, and never shows a wrong move.
  { a: 'sym1', b: 'sym2', mode: 'stun', render: false, anchor: 'tamper' },
]

export async function runBrowserCases(lab: Lab, world: LabWorld, turn: Coturn, dir: string, sink: (text: string) => void, anchorAgent: AgentClient): Promise<LabCase[]> {
  const browsers = new Map<string, Browser>()
  try {
    for (const name of new Set(CASES.flatMap((c) => [c.a, c.b]))) {
      const host = lab.host(name)
      browsers.set(name, await chromium.launch({
        executablePath: chromiumWrapper(host.ns, dir), args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'], timeout: 60_000,
      }))
    }
    const side = (name: string): BrowserSide => ({ host: name, nat: lab.host(name).nat, browser: browsers.get(name)! })
    const out: LabCase[] = []
    for (const c of CASES) {
      const anchor = c.anchor === undefined ? undefined : { agent: anchorAgent, tamper: c.anchor === 'tamper' }
      out.push(await runBrowserCase({ a: side(c.a), b: side(c.b), mode: c.mode, pageUrl: world.pageUrl, stunUrl: turn.stunUrl, render: c.render, sink, ...(anchor === undefined ? {} : { anchor }) }))
    }
    return out
  } finally {
    await Promise.all([...browsers.values()].map((b) => b.close().catch(() => undefined)))
  }
}
