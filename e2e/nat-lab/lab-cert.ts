import { join } from 'node:path'
import { run } from './exec.js'

/** A self-signed certificate (PEM files) for the lab's server address, valid for a day. */
export async function labCertificate(dir: string, ip: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'node-cert.pem')
  const key = join(dir, 'node-key.pem')
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '1', '-nodes',
    '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`, '-keyout', key, '-out', cert,
  ], { timeoutMs: 15_000 })
  return { cert, key }
}
