import YAML from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepContext } from '../types.js'
import { ConfigFieldError } from '../../util/errors.js'
import { MESSAGE_CHANNEL_KINDS, secretMap, type MessageChannelSpec } from './channel.js'
import { postToSlack, slackAuth } from './slack.js'
import { sendMail, smtpCredentials, type SmtpMail } from './smtp.js'

const STEP = 'send-message'

// Expressions may turn a ts such as 1712345678.123456 into a number; Kargo asks for quote().
const tsString = z.union([z.string(), z.number().transform(String)])

const schema = z.strictObject({
  channel: z.strictObject({
    kind: z.enum(MESSAGE_CHANNEL_KINDS),
    name: z.string().min(1)
  }),
  // Encoded JSON that was not quote()d arrives as a value: accepted when encodingType is set.
  message: z.union([z.string(), z.record(z.string(), z.unknown())]),
  encodingType: z.enum(['', 'json', 'yaml', 'xml']).optional(),
  slack: z
    .strictObject({
      channelID: z.string().optional(),
      threadTS: tsString.optional()
    })
    .optional(),
  smtp: z
    .strictObject({
      to: z
        .union([
          z
            .string()
            .min(1)
            .transform((s) => [s]),
          z.array(z.string().min(1))
        ])
        .optional(),
      subject: z.string().optional(),
      html: z.boolean().optional()
    })
    .optional()
})

type Config = z.output<typeof schema>

/** Kargo Enterprise's send-message: Slack or SMTP, through a MessageChannel resource. */
export const sendMessage = defineStep({
  name: STEP,
  schema,
  capabilities: ['secret'],
  async run(config, ctx) {
    const { kind, name } = config.channel
    const channelRef = `${kind}/${name}`
    const spec = ctx.messageChannel?.(kind, name)
    if (!spec) {
      throw new ConfigFieldError(
        `${STEP}.channel.name`,
        `no ${kind} named '${name}' in the config`,
        `define it (apiVersion: ee.kargo.akuity.io/v1alpha1, kind: ${kind}) next to the stages`
      )
    }
    const encoded = decodeMessage(config)
    if (spec.slack) return sendSlack(config, encoded, spec, channelRef, ctx)
    return sendSmtp(config, encoded, spec, channelRef, ctx)
  }
})

/** The message as a mapping when encodingType is json or yaml; undefined when it is plain text. */
function decodeMessage(config: Config): Record<string, unknown> | undefined {
  const field = `${STEP}.message`
  const { encodingType, message } = config
  if (!encodingType) {
    if (typeof message !== 'string') {
      throw new ConfigFieldError(
        field,
        'must be a string (set encodingType to send a structured message)'
      )
    }
    return undefined
  }
  if (encodingType === 'xml') {
    throw new ConfigFieldError(
      `${STEP}.encodingType`,
      "'xml' is not supported by Waybill: use json or yaml"
    )
  }
  if (typeof message !== 'string') return message
  let value: unknown
  try {
    value = encodingType === 'json' ? JSON.parse(message) : YAML.parse(message)
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new ConfigFieldError(field, `is not valid ${encodingType}: ${why}`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigFieldError(field, `must decode (${encodingType}) to a mapping`)
  }
  return value as Record<string, unknown>
}

function channelSecret(
  spec: MessageChannelSpec,
  channelRef: string,
  ctx: StepContext<'secret'>,
  fallbackKey: string
): { name: string; map: Record<string, string> } | undefined {
  if (!spec.secretRef) return undefined
  const name = spec.secretRef.name
  const field = `${channelRef} spec.secretRef.name`
  const map = secretMap(ctx.caps.secret(name), name, fallbackKey, field)
  // The input masks each whole value; a JSON secret's members must be masked on their own.
  for (const value of Object.values(map)) if (value) ctx.logger.mask(value)
  return { name, map }
}

async function sendSlack(
  config: Config,
  encoded: Record<string, unknown> | undefined,
  spec: MessageChannelSpec,
  channelRef: string,
  ctx: StepContext<'secret'>
) {
  const secret = channelSecret(spec, channelRef, ctx, 'apiKey')!
  const auth = slackAuth(secret.map, secret.name, `${channelRef} spec.secretRef.name`)
  // With an encoding, the body carries every option (Kargo ignores slack.* then).
  const payload: Record<string, unknown> = encoded ? { ...encoded } : { text: config.message }
  const channelID = encoded ? undefined : config.slack?.channelID || undefined
  const threadTS = encoded ? undefined : config.slack?.threadTS || undefined
  if (auth.kind === 'token') {
    payload.channel = payload.channel || channelID || spec.slack?.channelID
    if (!payload.channel) {
      throw new ConfigFieldError(
        `${STEP}.slack.channelID`,
        `is required: ${channelRef} has no slack.channelID`
      )
    }
  } else if (channelID) {
    ctx.logger.warn(
      `${STEP}: slack.channelID is ignored: ${channelRef} uses an incoming webhook, which posts to its own channel`
    )
  }
  if (threadTS) payload.thread_ts = threadTS
  if (!payload.text && !payload.blocks && !payload.attachments) {
    throw new ConfigFieldError(`${STEP}.message`, 'needs text, blocks or attachments for Slack')
  }
  const posted = await postToSlack({
    payload,
    auth,
    channelRef,
    secretName: secret.name,
    signal: ctx.signal
  })
  ctx.logger.info(`${STEP}: posted to Slack via ${channelRef}`)
  const thread = (payload.thread_ts as string | undefined) || posted.ts
  return {
    status: 'Succeeded' as const,
    outputs: {
      slack: {
        ...(thread ? { threadTS: thread } : {}),
        ...(posted.ts ? { ts: posted.ts } : {}),
        ...(posted.channel ? { channelID: posted.channel } : {})
      }
    }
  }
}

async function sendSmtp(
  config: Config,
  encoded: Record<string, unknown> | undefined,
  spec: MessageChannelSpec,
  channelRef: string,
  ctx: StepContext<'secret'>
) {
  const smtp = spec.smtp!
  const secret = channelSecret(spec, channelRef, ctx, 'password')
  const credentials = secret
    ? smtpCredentials(secret.map, secret.name, `${channelRef} spec.secretRef.name`)
    : undefined
  const mail = encoded ? encodedMail(encoded) : plainMail(config)
  if (!mail.to.length) mail.to = smtp.to ?? []
  if (!mail.to.length) {
    throw new ConfigFieldError(`${STEP}.smtp.to`, `is required: ${channelRef} has no smtp.to`)
  }
  if (!mail.subject) mail.subject = `Promotion to ${ctx.stage} (${ctx.project})`
  const sent = await sendMail({
    spec: smtp,
    mail,
    credentials,
    channelRef,
    secretName: secret?.name
  })
  ctx.logger.info(`${STEP}: mailed ${mail.to.length} recipient(s) via ${channelRef}`)
  return { status: 'Succeeded' as const, outputs: { smtp: { messageID: sent.messageID } } }
}

function plainMail(config: Config): SmtpMail {
  return {
    subject: config.smtp?.subject ?? '',
    body: config.message as string,
    html: config.smtp?.html ?? false,
    to: config.smtp?.to ?? []
  }
}

/** Kargo's SMTP body: `{ subject, body, to: [...], html }`. */
function encodedMail(m: Record<string, unknown>): SmtpMail {
  const field = `${STEP}.message`
  const str = (k: string) => {
    if (m[k] === undefined) return ''
    if (typeof m[k] !== 'string') throw new ConfigFieldError(`${field}.${k}`, 'must be a string')
    return m[k]
  }
  const to = m.to === undefined ? [] : typeof m.to === 'string' ? [m.to] : m.to
  if (!Array.isArray(to) || !to.every((t) => typeof t === 'string' && t)) {
    throw new ConfigFieldError(`${field}.to`, 'must be a list of email addresses')
  }
  if (m.html !== undefined && typeof m.html !== 'boolean') {
    throw new ConfigFieldError(`${field}.html`, 'must be a boolean')
  }
  const known = new Set(['subject', 'body', 'to', 'html'])
  const unknown = Object.keys(m).filter((k) => !known.has(k))
  if (unknown.length)
    throw new ConfigFieldError(`${field}.${unknown[0]}`, 'unknown field (subject, body, to, html)')
  return { subject: str('subject'), body: str('body'), html: m.html === true, to: to as string[] }
}
