import { BlockList, isIP } from 'node:net'
import { registerSecret } from '../util/logger.js'
import { isLoopbackHost } from '../util/net.js'

/**
 * The proxy for a request URL from the environment, with Go's rules (net/http
 * ProxyFromEnvironment, which Kargo and git-credential helpers follow): HTTPS_PROXY for https://,
 * HTTP_PROXY for http:// (upper case first, then lower case), never for loopback hosts, and not
 * for hosts NO_PROXY matches: `*`, a domain (`example.com` covers its subdomains, `.example.com`
 * only the subdomains), an IP or CIDR range, each optionally with `:port`.
 */
export function proxyForUrl(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw =
    url.protocol === 'https:'
      ? env.HTTPS_PROXY || env.https_proxy
      : url.protocol === 'http:'
        ? env.HTTP_PROXY || env.http_proxy
        : undefined
  if (!raw?.trim()) return undefined
  if (isLoopbackHost(url.hostname) || noProxyMatches(url, env.NO_PROXY || env.no_proxy || ''))
    return undefined
  const proxy = parseProxy(raw.trim())
  if (proxy.password) registerSecret(decodeURIComponent(proxy.password))
  return proxy
}

function parseProxy(raw: string): URL {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`)
  } catch {
    throw new TypeError(`the proxy setting '${raw}' is not a URL`)
  }
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80')
}

function noProxyMatches(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = defaultPort(url)
  for (let entry of noProxy.split(',').map((e) => e.trim().toLowerCase())) {
    if (!entry) continue
    if (entry === '*') return true
    let entryPort: string | undefined
    const portMatch = /^(\[.*\]|[^:]*):(\d+)$/.exec(entry)
    if (portMatch) [, entry, entryPort] = portMatch
    if (entryPort && entryPort !== port) continue
    entry = entry.replace(/^\[|\]$/g, '')
    if (entry.includes('/')) {
      if (cidrContains(entry, host)) return true
      continue
    }
    if (isIP(entry)) {
      if (entry === host) return true
      continue
    }
    if (entry.startsWith('*.')) entry = entry.slice(1)
    if (entry.startsWith('.')) {
      if (host.endsWith(entry)) return true
    } else if (host === entry || host.endsWith(`.${entry}`)) return true
  }
  return false
}

function cidrContains(cidr: string, host: string): boolean {
  const [net, bits] = cidr.split('/')
  const family = isIP(net)
  const hostFamily = isIP(host)
  if (!family || family !== hostFamily) return false
  const list = new BlockList()
  try {
    list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6')
  } catch {
    return false
  }
  return list.check(host, family === 4 ? 'ipv4' : 'ipv6')
}
