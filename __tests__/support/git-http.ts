import { spawn } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Serves bare repositories under `root` over smart HTTP with the real `git http-backend`
 * (CGI), on 127.0.0.1 with a random port. With `token` set, every request must carry Basic auth
 * whose password is the token (as GitHub accepts `x-access-token:<token>`).
 */
export interface GitHttpServer {
  url: string
  /** Requests seen, for asserting auth and counting fetches. */
  requests: Array<{ method: string; path: string; authorized: boolean }>
  close(): Promise<void>
}

export async function startGitHttpServer(
  root: string,
  opts: { token?: string } = {}
): Promise<GitHttpServer> {
  const requests: GitHttpServer['requests'] = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const auth = req.headers.authorization ?? ''
    let authorized = !opts.token
    if (opts.token && auth.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8')
      authorized = decoded.slice(decoded.indexOf(':') + 1) === opts.token
    }
    requests.push({ method: req.method ?? 'GET', path: url.pathname, authorized })
    if (!authorized) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="waybill-test"' })
      res.end('authentication required')
      return
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_HTTP_RECEIVE_PACK: 'true',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: req.headers['content-length'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: 'test',
        REMOTE_ADDR: '127.0.0.1'
      }
    })
    req.pipe(cgi.stdin)
    let head = Buffer.alloc(0)
    let headersDone = false
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const sep = head.indexOf('\r\n\r\n')
      if (sep < 0) return
      headersDone = true
      let status = 200
      const headers: Record<string, string> = {}
      for (const line of head.subarray(0, sep).toString('utf8').split('\r\n')) {
        const i = line.indexOf(':')
        const k = line.slice(0, i).trim()
        const v = line.slice(i + 1).trim()
        if (k.toLowerCase() === 'status') status = parseInt(v, 10)
        else headers[k] = v
      }
      res.writeHead(status, headers)
      res.write(head.subarray(sep + 4))
    })
    cgi.stderr.on('data', () => {})
    cgi.on('close', () => res.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
