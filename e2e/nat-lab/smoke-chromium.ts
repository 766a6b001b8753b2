import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS } from '../../bench/lib/browser.js'
import { chromiumWrapper } from './chromium-in-ns.js'
import type { Coturn } from './coturn.js'
import { spawnIn, stopChild } from './exec.js'
import type { Lab, LabHost } from './netns.js'
import type { Check } from './smoke-check.js'

const HTTP_PORT = 8080
const START_TIMEOUT_MS = 10_000
const GATHER_TIMEOUT_MS = 10_000

/** Answers every request with the source address it saw, from the pub namespace. */
const HTTP_SERVER = `require('http').createServer((q, s) => s.end('<title>nat-lab</title><pre id="seen">' + q.socket.remoteAddress + '</pre>')).listen(${HTTP_PORT}, process.argv[1], () => console.log('listening'))`

/**
 * Chromium inside `host`'s namespace (through chromiumWrapper and playwright-core)
 * loads a page from the pub namespace, and gathers ICE candidates against the
 * lab's coturn: the server must see the host's public address, and ICE must
 * find a server-reflexive and a relay candidate.
 */
export async function chromiumChecks(lab: Lab, host: LabHost, turn: Coturn, turnCredential: { username: string; password: string }, dir: string): Promise<Check[]> {
  const server = spawnIn(lab.pubNs, process.execPath, ['-e', HTTP_SERVER, lab.serverIp], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('http server in the pub namespace did not start')), START_TIMEOUT_MS)
      server.stdout!.once('data', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    const launchStartMs = performance.now()
    const browser = await chromium.launch({ executablePath: chromiumWrapper(host.ns, dir), args: CHROMIUM_ARGS, timeout: START_TIMEOUT_MS })
    const launchMs = performance.now() - launchStartMs
    try {
      const page = await browser.newPage()
      await page.goto(`http://${lab.serverIp}:${HTTP_PORT}/`, { timeout: START_TIMEOUT_MS })
      const seen = await page.locator('#seen').textContent()
      const iceServers = [{ urls: turn.stunUrl }, { urls: turn.turnUrl, username: turnCredential.username, credential: turnCredential.password }]
      const candidates = await page.evaluate(gatherCandidates, { iceServers, timeoutMs: GATHER_TIMEOUT_MS })
      const of = (type: string): string[] => candidates.filter((c) => c.type === type).map((c) => c.address)
      return [
        { name: `Chromium in ${host.name}: page from ${lab.serverIp}`, ok: seen === host.publicIp, detail: `server saw ${seen}; launch ${launchMs.toFixed(0)} ms` },
        { name: `Chromium in ${host.name}: ICE srflx`, ok: of('srflx').includes(host.publicIp), detail: of('srflx').join(', ') || 'none' },
        { name: `Chromium in ${host.name}: ICE relay`, ok: of('relay').includes(lab.serverIp), detail: of('relay').join(', ') || 'none' },
        { name: `Chromium in ${host.name}: ICE host (info)`, ok: true, detail: of('host').join(', ') || 'none' },
      ]
    } finally {
      await browser.close()
    }
  } finally {
    await stopChild(server)
  }
}

/** Runs in the page: every candidate of one offer, once gathering completes (or times out). */
async function gatherCandidates(init: { iceServers: RTCIceServer[]; timeoutMs: number }): Promise<{ type: string; address: string }[]> {
  const pc = new RTCPeerConnection({ iceServers: init.iceServers })
  const found: { type: string; address: string }[] = []
  const done = new Promise<void>((resolve) => {
    setTimeout(resolve, init.timeoutMs)
    pc.onicecandidate = (e) => {
      if (e.candidate === null) return resolve()
      found.push({ type: e.candidate.type ?? '?', address: e.candidate.address ?? '?' })
    }
  })
  pc.createDataChannel('probe')
  await pc.setLocalDescription(await pc.createOffer())
  await done
  pc.close()
  return found
}
