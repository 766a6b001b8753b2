/**
 * A UDP endpoint driven over stdio, run inside a lab namespace by
 * {@link startUdpAgent} (udp-agent-client.ts): the parent process, which cannot
 * enter namespaces itself, binds sockets and sends datagrams here and sees
 * every datagram that arrives. One JSON object a line each way.
 *
 * In:  {"op":"bind","id":"a","port":0} | {"op":"send","id":"a","ip":"198.18.0.1","port":4000,"text":"hi"}
 * Out: {"ev":"bound","id":"a","port":40123} | {"ev":"msg","id":"a","ip":"...","port":1,"text":"..."} | {"ev":"error","message":"..."}
 */
import { createSocket, type Socket } from 'node:dgram'
import { createInterface } from 'node:readline'

const MAX_SOCKETS = 64
const sockets = new Map<string, Socket>()

function emit(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

function handle(line: string): void {
  let cmd: { op?: unknown; id?: unknown; port?: unknown; ip?: unknown; text?: unknown }
  try {
    cmd = JSON.parse(line) as typeof cmd
  } catch {
    return emit({ ev: 'error', message: `not JSON: ${line.slice(0, 80)}` })
  }
  const id = String(cmd.id)
  if (cmd.op === 'bind') {
    if (sockets.has(id) || sockets.size >= MAX_SOCKETS) return emit({ ev: 'error', message: `cannot bind ${id}` })
    const socket = createSocket('udp4')
    sockets.set(id, socket)
    socket.on('message', (msg, rinfo) => emit({ ev: 'msg', id, ip: rinfo.address, port: rinfo.port, text: msg.toString() }))
    socket.on('error', (err) => emit({ ev: 'error', message: `${id}: ${err.message}` }))
    socket.bind(Number(cmd.port ?? 0), typeof cmd.ip === 'string' ? cmd.ip : undefined, () => emit({ ev: 'bound', id, port: socket.address().port }))
  } else if (cmd.op === 'send') {
    const socket = sockets.get(id)
    if (socket === undefined) return emit({ ev: 'error', message: `no socket ${id}` })
    socket.send(String(cmd.text), Number(cmd.port), String(cmd.ip))
  }
}

createInterface({ input: process.stdin }).on('line', handle).on('close', () => process.exit(0))
