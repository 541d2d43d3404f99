/**
 * Kargo's MessageChannel / ClusterMessageChannel spec (ee.kargo.akuity.io/v1alpha1), the one
 * definition: the config loader validates resources with it and `send-message` reads it. A spec
 * names exactly one service (`slack` or `smtp`) and the secret holding its credentials.
 */
import { z } from 'zod'
import { ConfigFieldError } from '../../util/errors.js'

export const MESSAGE_CHANNEL_KINDS = ['MessageChannel', 'ClusterMessageChannel'] as const
export type MessageChannelKind = (typeof MESSAGE_CHANNEL_KINDS)[number]

const SlackChannelSchema = z.strictObject({
  channelID: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'The Slack channel ID messages go to (a step may override it)' })
})

const SmtpChannelSchema = z.strictObject({
  from: z.string().min(1).meta({ description: 'The From address' }),
  to: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'Default recipients: the first is To, the others are Cc' }),
  host: z.string().min(1).meta({ description: 'The SMTP server host' }),
  port: z.number().int().min(1).max(65535).meta({ description: 'The SMTP server port' }),
  useTLS: z
    .boolean()
    .default(true)
    .meta({ description: 'TLS: implicit on port 465, STARTTLS required on other ports' }),
  insecureSkipVerify: z
    .boolean()
    .default(false)
    .meta({ description: "Skip verifying the server's TLS certificate (tests only)" })
})

export const MessageChannelSpecSchema = z
  .strictObject({
    secretRef: z
      .strictObject({
        name: z.string().min(1),
        namespace: z
          .string()
          .optional()
          .meta({ description: 'Kubernetes-only: accepted and ignored by Waybill' })
      })
      .optional()
      .meta({
        description:
          "The secret with the service's credentials: a name in the action's `secrets` input"
      }),
    slack: SlackChannelSchema.optional(),
    smtp: SmtpChannelSchema.optional()
  })
  .superRefine((spec, ctx) => {
    const services = [spec.slack && 'slack', spec.smtp && 'smtp'].filter(Boolean)
    if (services.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: services.length ? ['smtp'] : [],
        message:
          services.length > 1
            ? 'set exactly one of slack or smtp, not both'
            : 'set exactly one of slack or smtp'
      })
    }
    if (spec.slack && !spec.secretRef) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretRef'],
        message: 'is required for slack (the secret holds the bot token or webhook URL)'
      })
    }
  })

export type MessageChannelSpec = z.output<typeof MessageChannelSpecSchema>

/** Finds a channel by kind and name; undefined when the config defines none. */
export type MessageChannelLookup = (
  kind: MessageChannelKind,
  name: string
) => MessageChannelSpec | undefined

/**
 * A channel secret as a map, like a Kubernetes Secret's data: a JSON object in the `secrets`
 * input (`slack={"apiKey":"xoxb-…"}`) is read key by key; any other value is the map
 * `{ [fallbackKey]: value }` so the common one-value case needs no JSON.
 */
export function secretMap(
  raw: string | undefined,
  secretName: string,
  fallbackKey: string,
  field: string
): Record<string, string> {
  if (raw === undefined) {
    throw new ConfigFieldError(
      field,
      `secret '${secretName}' is not defined`,
      `add a line ${secretName}=<value> to the action's secrets input`
    )
  }
  const text = raw.trim()
  if (text.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      // Never echo the value: it is a credential.
      throw new ConfigFieldError(field, `secret '${secretName}' is not valid JSON`)
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v
      return out
    }
  }
  return { [fallbackKey]: text }
}
