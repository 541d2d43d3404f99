/**
 * True for hosts that name this machine: `localhost`, 127.0.0.0/8 and `::1` (also bracketed, with
 * or without a port: `127.0.0.1:5000`, `[::1]:8080`). Registries there are reached over plain HTTP
 * (Docker's rule), requests there never go through a proxy (Go's), and GitHub API fakes there are
 * not throttled.
 */
export function isLoopbackHost(hostOrHostPort: string): boolean {
  let host = hostOrHostPort.trim().toLowerCase()
  if (host.startsWith('['))
    host = host.slice(1, host.indexOf(']') < 0 ? undefined : host.indexOf(']'))
  else if (host.split(':').length === 2) host = host.slice(0, host.indexOf(':'))
  if (host.endsWith('.')) host = host.slice(0, -1)
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true
  const v4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4)
  return !!m && m[1] === '127' && m.slice(2).every((o) => Number(o) <= 255)
}

/** isLoopbackHost for a URL's host; false when `url` is not a URL. */
export function isLoopbackUrl(url: string | URL): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname)
  } catch {
    return false
  }
}
