/**
 * Slack delivery: a bot token posts with chat.postMessage (Slack's Web API: HTTP 200 with
 * `{ ok, error }`), an incoming webhook posts to its own URL (plain-text `ok`, or an error code
 * with a 4xx status). Messages never contain the token or the webhook URL.
 */
import { fetchWithRetry, readText, type Response } from '../../http/index.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'

export const SLACK_API_URL = 'https://slack.com/api'
const MAX_RESPONSE_BYTES = 1024 * 1024

/** How the channel's secret authenticates: a bot token (Kargo's `apiKey`) or a webhook URL. */
export type SlackAuth =
  { kind: 'token'; token: string; apiURL: string } | { kind: 'webhook'; url: string }

/**
 * Reads the secret map: `apiKey` (Kargo's key) is a bot token, `webhookURL` an incoming webhook;
 * a single value that is an http(s) URL is a webhook. `apiURL` overrides Slack's API base (a
 * proxy or a test server).
 */
export function slackAuth(
  secret: Record<string, string>,
  secretName: string,
  field: string
): SlackAuth {
  const webhook =
    secret.webhookURL ?? (/^https?:\/\//.test(secret.apiKey ?? '') ? secret.apiKey : undefined)
  if (webhook) return { kind: 'webhook', url: webhook }
  if (secret.apiKey) {
    return {
      kind: 'token',
      token: secret.apiKey,
      apiURL: (secret.apiURL || SLACK_API_URL).replace(/\/+$/, '')
    }
  }
  throw new ConfigFieldError(
    field,
    `secret '${secretName}' has neither apiKey (a bot token) nor webhookURL`,
    `set ${secretName}={"apiKey":"xoxb-…"} or ${secretName}={"webhookURL":"https://hooks.slack.com/…"}`
  )
}

export interface SlackPost {
  /** The chat.postMessage / webhook payload: text, blocks, attachments, thread_ts, icon_*… */
  payload: Record<string, unknown>
  auth: SlackAuth
  /** The channel resource (`MessageChannel/<name>`), for messages. */
  channelRef: string
  secretName: string
  signal?: AbortSignal
}

export interface SlackPosted {
  /** The message's timestamp (bot tokens only: webhooks answer no ts). */
  ts?: string
  /** The channel ID Slack posted to (bot tokens only). */
  channel?: string
}

/** Hints for Slack's error codes (https://docs.slack.dev/reference/methods/chat.postMessage). */
const ERROR_HINTS: Record<string, { about: string; hint: string }> = {
  channel_not_found: {
    about: 'channelID',
    hint: 'check slack.channelID (on the step or the channel) and that the bot can see the channel'
  },
  not_in_channel: { about: 'channelID', hint: 'invite the bot to the channel (/invite @bot)' },
  is_archived: { about: 'channelID', hint: 'the channel is archived' },
  channel_is_archived: { about: 'channelID', hint: 'the channel is archived' },
  invalid_auth: { about: 'secret', hint: 'the token in the secret is not valid' },
  not_authed: { about: 'secret', hint: 'no token was sent: check the secret' },
  token_revoked: { about: 'secret', hint: 'the token was revoked: issue a new one' },
  token_expired: { about: 'secret', hint: 'the token expired: issue a new one' },
  account_inactive: { about: 'secret', hint: 'the token belongs to a deleted user or app' },
  missing_scope: { about: 'secret', hint: 'the token needs the chat:write scope' },
  no_service: { about: 'secret', hint: 'the webhook was disabled or removed' },
  invalid_token: { about: 'secret', hint: 'the webhook URL is not valid' },
  thread_not_found: { about: 'threadTS', hint: 'slack.threadTS names no message in the channel' },
  invalid_thread_ts: { about: 'threadTS', hint: 'slack.threadTS names no message in the channel' },
  invalid_blocks: {
    about: 'message',
    hint: 'Slack rejected the blocks: check them in Block Kit Builder'
  },
  invalid_blocks_format: { about: 'message', hint: 'blocks must be an array of block objects' },
  no_text: { about: 'message', hint: 'the message needs text, blocks or attachments' },
  msg_too_long: { about: 'message', hint: 'the message text is too long' },
  ratelimited: { about: 'rate', hint: 'Slack rate-limited the post: try again later' }
}

/** Posts one message; throws a WaybillError naming the channel and Slack's error code. */
export async function postToSlack(p: SlackPost): Promise<SlackPosted> {
  const { auth } = p
  const url = auth.kind === 'token' ? `${auth.apiURL}/chat.postMessage` : auth.url
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }
  if (auth.kind === 'token') headers.authorization = `Bearer ${auth.token}`
  // Only 429 is retried: Slack did not post then. A 5xx or a dropped connection may have posted.
  const res = await fetchWithRetry(
    url,
    { method: 'POST', headers, body: JSON.stringify(p.payload), redirect: 'manual' },
    {
      signal: p.signal,
      retries: 3,
      retryStatus: (s) => s === 429,
      retryNetworkError: () => false
    }
  ).catch((err: unknown) => {
    if (err instanceof Error && err.name === 'HttpNetworkError') {
      // The network error names the host only, never the webhook's path (its secret part).
      throw new WaybillError(`${p.channelRef}: could not reach Slack: ${err.message}`)
    }
    throw err
  })
  return auth.kind === 'token' ? readApiAnswer(res, p) : readWebhookAnswer(res, p)
}

async function readApiAnswer(res: Response, p: SlackPost): Promise<SlackPosted> {
  const text = await readText(res, MAX_RESPONSE_BYTES)
  let body: { ok?: unknown; error?: unknown; ts?: unknown; channel?: unknown }
  try {
    body = JSON.parse(text) as typeof body
  } catch {
    throw new WaybillError(
      `${p.channelRef}: Slack chat.postMessage answered HTTP ${res.status} without JSON`,
      "check the secret's apiURL (if set)"
    )
  }
  if (body.ok !== true) {
    const code = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`
    throw slackError(code, p)
  }
  return {
    ts: typeof body.ts === 'string' ? body.ts : undefined,
    channel: typeof body.channel === 'string' ? body.channel : undefined
  }
}

async function readWebhookAnswer(res: Response, p: SlackPost): Promise<SlackPosted> {
  const text = (await readText(res, MAX_RESPONSE_BYTES)).trim()
  if (res.status >= 200 && res.status < 300) return {}
  throw slackError(/^[a-z_]+$/.test(text) ? text : `HTTP ${res.status}`, p)
}

function slackError(code: string, p: SlackPost): WaybillError {
  const known = ERROR_HINTS[code]
  const via = p.auth.kind === 'token' ? 'chat.postMessage' : 'the incoming webhook'
  const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v ?? ''))
  const about =
    known?.about === 'secret'
      ? ` (the credentials in secret '${p.secretName}')`
      : known?.about === 'channelID'
        ? ` (slack.channelID '${shown(p.payload.channel)}')`
        : known?.about === 'threadTS'
          ? ` (slack.threadTS '${shown(p.payload.thread_ts)}')`
          : ''
  return new WaybillError(`${p.channelRef}: Slack ${via} failed: ${code}${about}`, known?.hint)
}
