/**
 * A fake Slack on 127.0.0.1 that holds payloads to Slack's chat.postMessage and incoming-webhook
 * contracts and answers like Slack: `{ok:false, error}` with HTTP 200 for the Web API
 * (`not_authed`, `invalid_auth`, `channel_not_found`, `invalid_arguments`, `invalid_blocks`…),
 * plain-text errors with an HTTP status for webhooks. Only accepted messages are recorded.
 *
 * - `POST /api/chat.postMessage` with `Authorization: Bearer <botToken>` (the secret's `apiURL`
 *   is `<url>/api`); the channel `C404` does not exist.
 * - `POST <webhookPath>` (the webhook URL is `<url><webhookPath>`); any other `/services/…` path
 *   is a revoked webhook (403 `invalid_token`).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** chat.postMessage's arguments (docs.slack.dev/reference/methods/chat.postMessage). */
export const POST_MESSAGE_ARGS: ReadonlySet<string> = new Set([
  'channel',
  'text',
  'blocks',
  'attachments',
  'thread_ts',
  'reply_broadcast',
  'icon_emoji',
  'icon_url',
  'username',
  'mrkdwn',
  'parse',
  'link_names',
  'unfurl_links',
  'unfurl_media',
  'metadata',
  'markdown_text'
])
/** What an incoming webhook reads; it posts to its own channel. */
export const WEBHOOK_ARGS: ReadonlySet<string> = new Set([
  'text',
  'blocks',
  'attachments',
  'thread_ts',
  'mrkdwn'
])

export interface SlackPost {
  via: 'api' | 'webhook'
  body: Record<string, unknown>
}

export interface FakeSlackOptions {
  /** The only bot token chat.postMessage accepts. */
  botToken: string
  /** The path of the one live incoming webhook, e.g. `/services/T000/B000/secret`. */
  webhookPath: string
}

export interface FakeSlack {
  /** http://127.0.0.1:<port>: the Web API is under `${url}/api`. */
  url: string
  /** Messages Slack accepted, in order. */
  posts: SlackPost[]
  close(): Promise<void>
}

/** Slack's rules for a message body; the error code Slack would answer, or undefined. */
export function payloadProblem(
  body: Record<string, unknown>,
  allowed: ReadonlySet<string>
): string | undefined {
  if (Object.keys(body).some((k) => !allowed.has(k))) return 'invalid_arguments'
  if (body.text !== undefined && typeof body.text !== 'string') return 'invalid_arguments'
  if (
    body.thread_ts !== undefined &&
    (typeof body.thread_ts !== 'string' || !/^\d+\.\d+$/.test(body.thread_ts))
  )
    return 'invalid_thread_ts'
  if (body.blocks !== undefined) {
    const ok =
      Array.isArray(body.blocks) &&
      body.blocks.every(
        (b) => b && typeof b === 'object' && typeof (b as { type?: unknown }).type === 'string'
      )
    if (!ok) return 'invalid_blocks'
  }
  if (!body.text && !body.blocks && !body.attachments) return 'no_text'
  return undefined
}

export async function startFakeSlack(opts: FakeSlackOptions): Promise<FakeSlack> {
  const posts: SlackPost[] = []
  let seq = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify(value))
      }
      const text = (status: number, value: string) => {
        res.writeHead(status, { 'content-type': 'text/html' })
        res.end(value)
      }
      let body: Record<string, unknown>
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      } catch {
        return req.url === '/api/chat.postMessage'
          ? json(200, { ok: false, error: 'invalid_json' })
          : text(400, 'invalid_payload')
      }
      if (req.method !== 'POST') return text(405, 'method_not_allowed')
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return json(200, { ok: false, error: 'invalid_form_data' })
      if (req.url === '/api/chat.postMessage') {
        const auth = req.headers.authorization
        if (!auth) return json(200, { ok: false, error: 'not_authed' })
        if (auth !== `Bearer ${opts.botToken}`)
          return json(200, { ok: false, error: 'invalid_auth' })
        if (typeof body.channel !== 'string' || !body.channel)
          return json(200, { ok: false, error: 'channel_not_found' })
        if (body.channel === 'C404') return json(200, { ok: false, error: 'channel_not_found' })
        const problem = payloadProblem(body, POST_MESSAGE_ARGS)
        if (problem) return json(200, { ok: false, error: problem })
        posts.push({ via: 'api', body })
        const ts = `1712345678.00${String(++seq).padStart(4, '0')}`
        return json(200, {
          ok: true,
          channel: body.channel,
          ts,
          message: { type: 'message', text: body.text ?? '', ts, thread_ts: body.thread_ts }
        })
      }
      if (req.url === opts.webhookPath) {
        const problem = payloadProblem(body, WEBHOOK_ARGS)
        if (problem) return text(400, problem === 'invalid_arguments' ? 'invalid_payload' : problem)
        posts.push({ via: 'webhook', body })
        return text(200, 'ok')
      }
      if (req.url?.startsWith('/services/')) return text(403, 'invalid_token')
      return text(404, 'not_found')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, posts, close: () => new Promise<void>((r) => server.close(() => r())) }
}
