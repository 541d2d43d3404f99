import { Agent, ProxyAgent, type Dispatcher } from 'undici'
import { proxyForUrl } from './proxy.js'

export interface TransportOptions {
  /** Skip TLS certificate verification (insecureSkipTLSVerify, argocd-insecure). */
  insecureSkipTLSVerify?: boolean
  /** Longest wait for a TCP/TLS connection (default 10 s, at most the request timeout). */
  connectTimeoutMs?: number
  /** Longest wait for the response headers, and between two chunks of the body. */
  idleTimeoutMs?: number
  /** Where HTTP(S)_PROXY and NO_PROXY are read (default process.env). */
  env?: NodeJS.ProcessEnv
  /** A proxy URL that replaces the environment's (the http step's `proxy` field). */
  proxy?: string
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const DEFAULT_IDLE_TIMEOUT_MS = 60_000

/** Dispatchers by settings: connections are pooled per proxy, TLS mode and timeouts. */
const dispatchers = new Map<string, Dispatcher>()

/** The undici dispatcher for a request to `url`: direct, or through the proxy the env names. */
export function dispatcherFor(url: URL, opts: TransportOptions = {}): Dispatcher {
  const proxy = opts.proxy ? new URL(opts.proxy) : proxyForUrl(url, opts.env)
  const insecure = !!opts.insecureSkipTLSVerify
  const connectTimeout = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const idle = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  const key = JSON.stringify([proxy?.href, insecure, connectTimeout, idle])
  let d = dispatchers.get(key)
  if (d) return d
  const common = { headersTimeout: idle, bodyTimeout: idle }
  d = proxy
    ? new ProxyAgent({
        uri: proxy.href,
        ...common,
        // http:// targets go to the proxy as absolute-URI requests (what curl and Go do; many
        // proxies refuse CONNECT to port 80); https:// ones through a CONNECT tunnel.
        proxyTunnel: false,
        proxyTls: { timeout: connectTimeout },
        requestTls: { rejectUnauthorized: !insecure, timeout: connectTimeout }
      })
    : new Agent({ ...common, connect: { timeout: connectTimeout, rejectUnauthorized: !insecure } })
  dispatchers.set(key, d)
  return d
}

/** Closes every pooled connection (tests, and a CLI that wants to exit promptly). */
export async function closeDispatchers(): Promise<void> {
  const all = [...dispatchers.values()]
  dispatchers.clear()
  await Promise.all(all.map((d) => d.close().catch(() => undefined)))
}
