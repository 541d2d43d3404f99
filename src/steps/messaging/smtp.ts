/** SMTP delivery with nodemailer, from a MessageChannel's `smtp` spec. */
import nodemailer from 'nodemailer'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import type { MessageChannelSpec } from './channel.js'

type SmtpSpec = NonNullable<MessageChannelSpec['smtp']>

export interface SmtpMail {
  subject: string
  body: string
  html: boolean
  /** Recipients: the first is To, the others are Cc (Kargo's rule). */
  to: string[]
}

export interface SmtpSend {
  spec: SmtpSpec
  mail: SmtpMail
  /** username/password from the channel's secret; none for a relay without authentication. */
  credentials?: { username: string; password: string }
  channelRef: string
  secretName?: string
}

const TIMEOUT_MS = 30_000

/** The credentials in an SMTP channel's secret (`{"username":…,"password":…}`). */
export function smtpCredentials(
  secret: Record<string, string>,
  secretName: string,
  field: string
): { username: string; password: string } {
  if (secret.username && secret.password)
    return { username: secret.username, password: secret.password }
  throw new ConfigFieldError(
    field,
    `secret '${secretName}' must be a JSON object with username and password`,
    `set ${secretName}={"username":"…","password":"…"}`
  )
}

/** Sends one mail; the message ID the server accepted it as. */
export async function sendMail(s: SmtpSend): Promise<{ messageID: string }> {
  const { spec, mail } = s
  const implicitTLS = spec.useTLS && spec.port === 465
  const transport = nodemailer.createTransport({
    host: spec.host,
    port: spec.port,
    secure: implicitTLS,
    requireTLS: spec.useTLS && !implicitTLS,
    ignoreTLS: !spec.useTLS,
    auth: s.credentials
      ? { user: s.credentials.username, pass: s.credentials.password }
      : undefined,
    tls: { rejectUnauthorized: !spec.insecureSkipVerify },
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS
  })
  const [to, ...cc] = mail.to
  try {
    const info = await transport.sendMail({
      from: spec.from,
      to,
      cc: cc.length ? cc : undefined,
      subject: mail.subject,
      ...(mail.html ? { html: mail.body } : { text: mail.body })
    })
    return { messageID: String(info.messageId ?? '') }
  } catch (err) {
    throw smtpError(err, s)
  } finally {
    transport.close()
  }
}

function smtpError(err: unknown, s: SmtpSend): WaybillError {
  const e = err as { code?: string; responseCode?: number; message?: string }
  const server = `${s.spec.host}:${s.spec.port}`
  const status = e.responseCode ? ` (${e.responseCode})` : ''
  const where = `${s.channelRef}: SMTP server ${server}`
  switch (e.code) {
    case 'EAUTH':
      return new WaybillError(
        `${where} rejected the credentials in secret '${s.secretName ?? ''}'${status}`,
        'check the username and password in the secret'
      )
    case 'ENOAUTH':
      return new WaybillError(
        `${where} requires authentication${status}`,
        'set secretRef on the channel'
      )
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'ETIMEDOUT':
    case 'EDNS':
      return new WaybillError(
        `${where} could not be reached: ${e.code}${status}`,
        'check smtp.host, smtp.port and smtp.useTLS (465 is implicit TLS, 587 STARTTLS)'
      )
    case 'ETLS':
      return new WaybillError(
        `${where}: TLS failed${status}`,
        'check smtp.useTLS and smtp.insecureSkipVerify'
      )
    case 'EENVELOPE':
      return new WaybillError(
        `${where} refused the sender or recipients${status}`,
        'check smtp.from and smtp.to'
      )
    default:
      return new WaybillError(`${where} refused the message: ${e.code ?? 'error'}${status}`)
  }
}
