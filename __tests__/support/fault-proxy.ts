import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A fault-injecting HTTP proxy on 127.0.0.1 (random port) in front of one upstream server (the
 * real docker-registry, the git http-backend server). Every request is forwarded unchanged
 * unless the fault plan picks a fault for it:
 * - `reset`: the connection is reset (TCP RST) before any response;
 * - `hang`: no response at all (the client's timeout fires), the socket is closed later;
 * - `status`: an HTTP error (429, 500, 502, 503…), optionally with Retry-After;
 * - `truncate`: the upstream response's headers (with its Content-Length) and only the first
 *   `bytes` of its body, then the connection is destroyed;
 * - `slow`: the response is forwarded after `delayMs`, its body dripped in small chunks.
 */
export type Fault =
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'truncate'; bytes: number }
  | { kind: 'slow'; delayMs: number }

export interface ProxiedRequest {
  method: string
  path: string
  /** 0-based index among all requests the proxy saw. */
  n: number
}

/** Picks the fault for a request (undefined: forward it). */
export type FaultPlan = (req: ProxiedRequest) => Fault | undefined

export interface FaultProxy {
  /** host:port of the proxy. */
  host: string
  url: string
  /** Requests seen, with the fault applied to each (if any). */
  log: Array<ProxiedRequest & { fault?: Fault['kind'] }>
  setPlan(plan: FaultPlan | undefined): void
  close(): Promise<void>
}

/** The first `count` requests (matching `match`) get `fault`; the rest pass. */
export function firstN(count: number, fault: Fault, match: RegExp = /./): FaultPlan {
  let left = count
  return (req) => {
    if (left > 0 && match.test(req.path)) {
      left--
      return fault
    }
    return undefined
  }
}

/** Every request (matching `match`) gets `fault`. */
export function always(fault: Fault, match: RegExp = /./): FaultPlan {
  return (req) => (match.test(req.path) ? fault : undefined)
}

/** Faults drawn at random with probability `p` from `faults` (a seeded LCG, so runs repeat). */
export function randomFaults(p: number, faults: Fault[], seed = 1): FaultPlan {
  let s = seed >>> 0 || 1
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return () => (next() < p ? faults[Math.floor(next() * faults.length)] : undefined)
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream)
  let plan: FaultPlan | undefined
  let n = 0
  const log: FaultProxy['log'] = []
  const hanging = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', n: n++ }
    const fault = plan?.(entry)
    log.push({ ...entry, fault: fault?.kind })
    if (fault?.kind === 'reset') {
      req.resume()
      req.socket.resetAndDestroy()
      return
    }
    if (fault?.kind === 'hang') {
      req.resume()
      hanging.add(res)
      setTimeout(() => {
        hanging.delete(res)
        res.destroy()
      }, 30_000).unref()
      return
    }
    if (fault?.kind === 'status') {
      req.resume()
      const headers: Record<string, string> = { 'content-type': 'text/plain' }
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter
      res.writeHead(fault.status, headers)
      res.end(fault.body ?? `injected HTTP ${fault.status}\n`)
      return
    }
    const headers = { ...req.headers, host: target.host }
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers
      },
      (upRes) => {
        const forward = () => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers)
          if (fault?.kind === 'truncate') {
            let sent = 0
            upRes.on('data', (chunk: Buffer) => {
              const room = fault.bytes - sent
              if (room > 0) res.write(chunk.subarray(0, room))
              sent += chunk.length
              if (sent >= fault.bytes) {
                upRes.destroy()
                res.socket?.destroy()
              }
            })
            upRes.on('end', () => res.socket?.destroy())
            return
          }
          if (fault?.kind === 'slow') {
            upRes.on('data', (chunk: Buffer) => {
              upRes.pause()
              let i = 0
              const drip = () => {
                if (i >= chunk.length) return upRes.resume()
                res.write(chunk.subarray(i, i + 512))
                i += 512
                setTimeout(drip, 5)
              }
              drip()
            })
            upRes.on('end', () => res.end())
            return
          }
          upRes.pipe(res)
        }
        if (fault?.kind === 'slow') setTimeout(forward, fault.delayMs)
        else forward()
      }
    )
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    log,
    setPlan(p) {
      plan = p
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => r())
      })
  }
}
