/**
 * send-message against a local SMTP server (smtp-server) and the fake Slack of
 * __tests__/support/slack-fake.ts, which holds payloads to Slack's chat.postMessage and
 * incoming-webhook contracts and answers like Slack, `ok:false` included. Channels come from a
 * loaded config, credentials from the `secrets` input.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { SMTPServer } from 'smtp-server'
import { loadProject } from '../../src/config/index.js'
import { messageChannelLookup, type ProjectModel } from '../../src/config/model.js'
import { runPromotion } from '../../src/promotion/engine.js'
import { stepRegistry } from '../../src/steps/registry.js'
import { emptyState, type Promotion } from '../../src/state/types.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { BASE, writeProject } from '../config/support.js'
import { startFakeSlack, type FakeSlack } from '../support/slack-fake.js'
import { stepContext, testFreight, testServices } from '../support/step-context.js'

const sendMessage = stepRegistry.get('send-message')!
const BOT_TOKEN = 'xoxb-good-token-123'
const WEBHOOK_PATH = '/services/T000/B000/secretpart123'

// ─── local SMTP server ───────────────────────────────────────────────────────────────────────

interface Mail {
  from: string
  rcpt: string[]
  headers: Record<string, string>
  body: string
  secured: boolean
}

async function startSmtp() {
  const mails: Mail[] = []
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 'p4ss-w0rd')
        return cb(null, { user: 'mailer' })
      cb(new Error('Invalid username or password'))
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const split = raw.indexOf('\r\n\r\n')
        const headers: Record<string, string> = {}
        for (const line of raw
          .slice(0, split)
          .replace(/\r\n[ \t]+/g, ' ')
          .split('\r\n')) {
          const i = line.indexOf(':')
          headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
        }
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          headers,
          body: raw.slice(split + 4).trim(),
          secured: session.secure
        })
        cb()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) }
}

// ─── the config ──────────────────────────────────────────────────────────────────────────────

let slack: FakeSlack
let smtp: Awaited<ReturnType<typeof startSmtp>>
let model: ProjectModel
let secrets: Record<string, string>

function channels(smtpPort: number): string {
  return `---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: slack
  namespace: demo
spec:
  secretRef:
    name: slack-token
  slack:
    channelID: C1234567890
---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: slack-webhook
spec:
  secretRef:
    name: slack-webhook
  slack: {}
---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: slack-bad-token
spec:
  secretRef:
    name: slack-bad
  slack:
    channelID: C1234567890
---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: ClusterMessageChannel
metadata:
  name: smtp
spec:
  secretRef:
    name: smtp-credentials
  smtp:
    from: waybill@example.com
    to: [dev@example.com, ops@example.com]
    host: 127.0.0.1
    port: ${smtpPort}
    useTLS: false
---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: smtp-starttls
spec:
  secretRef:
    name: smtp-credentials
  smtp:
    from: waybill@example.com
    host: 127.0.0.1
    port: ${smtpPort}
    insecureSkipVerify: true
---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: smtp-wrong-password
spec:
  secretRef:
    name: smtp-wrong
  smtp:
    from: waybill@example.com
    to: [dev@example.com]
    host: 127.0.0.1
    port: ${smtpPort}
    useTLS: false
`
}

beforeAll(async () => {
  slack = await startFakeSlack({ botToken: BOT_TOKEN, webhookPath: WEBHOOK_PATH })
  smtp = await startSmtp()
  const repo = writeProject({ 'base.yaml': BASE, 'channels.yaml': channels(smtp.port) })
  const loaded = await loadProject(repo, '.waybill')
  expect(loaded.problems.filter((p) => p.severity !== 'notice')).toEqual([])
  model = loaded.model
  secrets = {
    'slack-token': JSON.stringify({ apiKey: BOT_TOKEN, apiURL: `${slack.url}/api` }),
    'slack-webhook': `${slack.url}${WEBHOOK_PATH}`,
    'slack-bad': JSON.stringify({ apiKey: 'xoxb-revoked-999', apiURL: `${slack.url}/api` }),
    'smtp-credentials': JSON.stringify({ username: 'mailer', password: 'p4ss-w0rd' }),
    'smtp-wrong': JSON.stringify({ username: 'mailer', password: 'not-the-password' })
  }
})
afterAll(async () => {
  await slack?.close()
  await smtp?.close()
})
beforeEach(() => {
  slack.posts.length = 0
  smtp.mails.length = 0
})

/** Runs send-message directly with the loaded channels and the secrets. */
async function send(config: Record<string, unknown>) {
  const ctx = stepContext({
    services: testServices({ secrets }),
    messageChannel: messageChannelLookup(model)
  })
  const result = await sendMessage.run(sendMessage.parse(config), ctx)
  return { result, logger: ctx.logger }
}

async function sendError(config: Record<string, unknown>): Promise<string> {
  const err = await send(config).then(
    () => undefined,
    (e: unknown) => e as Error
  )
  expect(err).toBeInstanceOf(Error)
  const text = `${err!.message} ${(err as { hint?: string }).hint ?? ''}`
  for (const secret of [
    BOT_TOKEN,
    'xoxb-revoked-999',
    'secretpart123',
    'p4ss-w0rd',
    'not-the-password'
  ])
    expect(text).not.toContain(secret)
  return err!.message
}

const slackChannel = { kind: 'MessageChannel', name: 'slack' }

describe('send-message to Slack (bot token, chat.postMessage)', () => {
  it('posts text to the channel and returns the new thread ts', async () => {
    const { result } = await send({ channel: slackChannel, message: 'promoted to dev' })
    expect(slack.posts).toEqual([
      { via: 'api', body: { channel: 'C1234567890', text: 'promoted to dev' } }
    ])
    expect(result.status).toBe('Succeeded')
    expect(result.outputs).toEqual({
      slack: { threadTS: '1712345678.000001', ts: '1712345678.000001', channelID: 'C1234567890' }
    })
  })

  it('overrides the channel and replies in a thread; threadTS stays the thread', async () => {
    const { result } = await send({
      channel: slackChannel,
      message: 'step two',
      slack: { channelID: 'C0OTHER', threadTS: '1712345678.000001' }
    })
    expect(slack.posts[0].body).toEqual({
      channel: 'C0OTHER',
      text: 'step two',
      thread_ts: '1712345678.000001'
    })
    expect((result.outputs!.slack as { threadTS: string }).threadTS).toBe('1712345678.000001')
  })

  it("sends Kargo's yaml blocks example as blocks, with the body's channel and icon", async () => {
    await send({
      channel: slackChannel,
      encodingType: 'yaml',
      message: [
        'blocks:',
        '  - type: section',
        '    text:',
        '      type: mrkdwn',
        '      text: "*Kargo Promotion Started* :rocket:"',
        '  - type: section',
        '    fields:',
        '      - type: mrkdwn',
        '        text: "*Stage:*\\ndev"',
        'icon_emoji: ":fire:"',
        'channel: C9999999999',
        ''
      ].join('\n'),
      // Ignored with an encoding, as in Kargo.
      slack: { channelID: 'C0IGNORED' }
    })
    expect(slack.posts[0].body).toEqual({
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '*Kargo Promotion Started* :rocket:' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Stage:*\ndev' }] }
      ],
      icon_emoji: ':fire:',
      channel: 'C9999999999'
    })
  })

  it('json bodies default to the channel ID of the MessageChannel', async () => {
    await send({
      channel: slackChannel,
      encodingType: 'json',
      message: JSON.stringify({ blocks: [{ type: 'divider' }], text: 'fallback' })
    })
    expect(slack.posts[0].body).toEqual({
      blocks: [{ type: 'divider' }],
      text: 'fallback',
      channel: 'C1234567890'
    })
  })

  it("Slack's channel_not_found names the channel ID and the MessageChannel", async () => {
    const msg = await sendError({
      channel: slackChannel,
      message: 'x',
      slack: { channelID: 'C404' }
    })
    expect(msg).toBe(
      "MessageChannel/slack: Slack chat.postMessage failed: channel_not_found (slack.channelID 'C404')"
    )
  })

  it("Slack's invalid_auth names the secret, never the token", async () => {
    const msg = await sendError({
      channel: { kind: 'MessageChannel', name: 'slack-bad-token' },
      message: 'x'
    })
    expect(msg).toBe(
      "MessageChannel/slack-bad-token: Slack chat.postMessage failed: invalid_auth (the credentials in secret 'slack-bad')"
    )
  })

  it('blocks Slack rejects come back as invalid_blocks on the message', async () => {
    const msg = await sendError({
      channel: slackChannel,
      encodingType: 'json',
      message: JSON.stringify({ blocks: [{ text: 'no type' }] })
    })
    expect(msg).toContain('Slack chat.postMessage failed: invalid_blocks')
  })
})

describe('send-message to Slack (incoming webhook)', () => {
  const webhook = { kind: 'MessageChannel', name: 'slack-webhook' }

  it('posts to the webhook without a channel; the thread ts given is the output', async () => {
    const { result, logger } = await send({
      channel: webhook,
      message: 'via webhook',
      slack: { channelID: 'C0IGNORED', threadTS: '1712345678.000042' }
    })
    expect(slack.posts).toEqual([
      { via: 'webhook', body: { text: 'via webhook', thread_ts: '1712345678.000042' } }
    ])
    expect(result.outputs).toEqual({ slack: { threadTS: '1712345678.000042' } })
    expect(logger.lines.join('\n')).toContain('slack.channelID is ignored')
  })

  it('a webhook error names the service and never the webhook URL', async () => {
    secrets['slack-webhook'] = `${slack.url}/services/T000/B000/revoked`
    try {
      const msg = await sendError({ channel: webhook, message: 'x' })
      expect(msg).toBe(
        "MessageChannel/slack-webhook: Slack the incoming webhook failed: invalid_token (the credentials in secret 'slack-webhook')"
      )
      expect(msg).not.toContain('/services/')
    } finally {
      secrets['slack-webhook'] = `${slack.url}${WEBHOOK_PATH}`
    }
  })
})

describe('send-message over SMTP (nodemailer to smtp-server)', () => {
  const smtpChannel = { kind: 'ClusterMessageChannel', name: 'smtp' }

  it('mails the channel default recipients (first To, the rest Cc) with a default subject', async () => {
    const { result } = await send({ channel: smtpChannel, message: 'promoted to dev' })
    expect(result.status).toBe('Succeeded')
    expect(smtp.mails).toHaveLength(1)
    const [mail] = smtp.mails
    expect(mail.from).toBe('waybill@example.com')
    expect(mail.rcpt).toEqual(['dev@example.com', 'ops@example.com'])
    expect(mail.headers.to).toBe('dev@example.com')
    expect(mail.headers.cc).toBe('ops@example.com')
    expect(mail.headers.subject).toBe('Promotion to test-stage (test)')
    expect(mail.headers['content-type']).toMatch(/^text\/plain/)
    expect(mail.body).toBe('promoted to dev')
    expect((result.outputs!.smtp as { messageID: string }).messageID).toMatch(/^<.+>$/)
  })

  it('step fields override recipients, subject and html', async () => {
    await send({
      channel: smtpChannel,
      message: '<b>hi</b>',
      smtp: { to: ['lead@example.com'], subject: 'Deployment started', html: true }
    })
    const [mail] = smtp.mails
    expect(mail.rcpt).toEqual(['lead@example.com'])
    expect(mail.headers.subject).toBe('Deployment started')
    expect(mail.headers['content-type']).toMatch(/^text\/html/)
    expect(mail.body).toBe('<b>hi</b>')
  })

  it("reads Kargo's encoded body (subject, body, to, html)", async () => {
    await send({
      channel: smtpChannel,
      encodingType: 'json',
      message: JSON.stringify({
        subject: 'Encoded',
        body: 'plain body',
        to: ['a@example.com'],
        html: false
      })
    })
    const [mail] = smtp.mails
    expect(mail.rcpt).toEqual(['a@example.com'])
    expect(mail.headers.subject).toBe('Encoded')
    expect(mail.body).toBe('plain body')
  })

  it('useTLS (the default) upgrades with STARTTLS on a port other than 465', async () => {
    await send({
      channel: { kind: 'MessageChannel', name: 'smtp-starttls' },
      message: 'secured',
      smtp: { to: 'sec@example.com' }
    })
    expect(smtp.mails[0].secured).toBe(true)
    expect(smtp.mails[0].rcpt).toEqual(['sec@example.com'])
  })

  it('an authentication failure names the server and the secret, never the password', async () => {
    const msg = await sendError({
      channel: { kind: 'MessageChannel', name: 'smtp-wrong-password' },
      message: 'x'
    })
    expect(msg).toBe(
      `MessageChannel/smtp-wrong-password: SMTP server 127.0.0.1:${smtp.port} rejected the credentials in secret 'smtp-wrong' (535)`
    )
    expect(smtp.mails).toEqual([])
  })

  it('no recipient anywhere is an error on smtp.to', async () => {
    const msg = await sendError({
      channel: { kind: 'MessageChannel', name: 'smtp-starttls' },
      message: 'x'
    })
    expect(msg).toBe(
      'send-message.smtp.to: is required: MessageChannel/smtp-starttls has no smtp.to'
    )
  })
})

describe('send-message config and channels', () => {
  it('an unknown channel names channel.name', async () => {
    const msg = await sendError({ channel: { kind: 'MessageChannel', name: 'nope' }, message: 'x' })
    expect(msg).toBe("send-message.channel.name: no MessageChannel named 'nope' in the config")
  })

  it('a missing secret names the channel field and the secrets input', async () => {
    const saved = secrets['slack-token']
    delete secrets['slack-token']
    try {
      const err = await send({ channel: slackChannel, message: 'x' }).catch(
        (e: unknown) => e as Error & { hint?: string }
      )
      expect((err as Error).message).toBe(
        "MessageChannel/slack spec.secretRef.name: secret 'slack-token' is not defined"
      )
    } finally {
      secrets['slack-token'] = saved
    }
  })

  it('step config errors name the field', () => {
    expect(() =>
      sendMessage.parse({ channel: { kind: 'Channel', name: 'x' }, message: 'x' })
    ).toThrow(/^send-message\.channel\.kind: /)
    expect(() => sendMessage.parse({ channel: slackChannel })).toThrow(/^send-message\.message: /)
    expect(() =>
      sendMessage.parse({ channel: slackChannel, message: 'x', slack: { channel: 'C1' } })
    ).toThrow('send-message.slack.channel: unknown field')
  })

  it('bad channel resources are located errors', async () => {
    const repo = writeProject({
      'base.yaml': BASE,
      'channels.yaml': `apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: both
spec:
  slack:
    channelID: C1
  smtp:
    from: a@example.com
    host: mail
    port: 25
---
apiVersion: ee.kargo.akuity.io/v1alpha1
kind: MessageChannel
metadata:
  name: typo
spec:
  secretRef:
    name: s
  slack:
    channelId: C1
---
apiVersion: kargo.akuity.io/v1alpha1
kind: ClusterMessageChannel
metadata:
  name: wrong-group
spec:
  smtp:
    from: a@example.com
    host: mail
    port: 25
`
    })
    const { problems } = await loadProject(repo, '.waybill')
    const errors = problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.file}:${p.line} ${p.kind}/${p.name} ${p.field}: ${p.message}`)
    expect(errors).toEqual([
      '.waybill/channels.yaml:5 MessageChannel/both spec.secretRef: is required for slack (the secret holds the bot token or webhook URL)',
      '.waybill/channels.yaml:9 MessageChannel/both spec.smtp: set exactly one of slack or smtp, not both',
      expect.stringMatching(
        /^\.waybill\/channels\.yaml:21 MessageChannel\/typo spec\.slack\.channelId: /
      ),
      ".waybill/channels.yaml:23 ClusterMessageChannel/wrong-group apiVersion: unsupported apiVersion 'kargo.akuity.io/v1alpha1'"
    ])
  })
})

describe('send-message in a promotion', () => {
  it('a later step threads under the first message through outputs', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-send-message-'))
    const freight = testFreight()
    const state = emptyState()
    state.freight[freight.name] = freight
    const promotion: Promotion = {
      name: 'dev.01jabc.0123456',
      stage: 'dev',
      freight: freight.name,
      freightCollection: {
        id: 'x',
        items: { 'Warehouse/main': { name: freight.name, origin: freight.origin } },
        verificationHistory: []
      },
      phase: 'Pending',
      createdAt: '2026-01-01T00:00:00Z',
      actor: 'alice',
      steps: [
        {
          uses: 'send-message',
          as: 'start',
          config: {
            channel: slackChannel,
            message: 'Promoting ${{ ctx.targetFreight.alias }} to ${{ ctx.stage }}'
          }
        },
        {
          uses: 'send-message',
          as: 'done',
          config: {
            channel: slackChannel,
            message: 'done',
            slack: { threadTS: '${{ quote(outputs.start.slack.threadTS) }}' }
          }
        }
      ],
      currentStep: 0,
      stepExecutionMetadata: [],
      state: {}
    }
    try {
      const r = await runPromotion(promotion, {
        state,
        project: 'demo',
        services: { ...defaultServices({}), secrets },
        logger: new MemoryLogger(),
        workRoot: tmp,
        now: () => new Date('2026-01-02T00:00:00Z'),
        waitMs: 0,
        messageChannel: messageChannelLookup(model)
      })
      expect(r.promotion.phase).toBe('Succeeded')
      expect(slack.posts.map((p) => p.body)).toEqual([
        { channel: 'C1234567890', text: `Promoting ${freight.alias} to dev` },
        {
          channel: 'C1234567890',
          text: 'done',
          thread_ts: expect.stringMatching(/^1712345678\.\d{6}$/)
        }
      ])
      const first = (r.promotion.state.start as { slack: { threadTS: string } }).slack.threadTS
      expect(slack.posts[1].body.thread_ts).toBe(first)
      expect((r.promotion.state.done as { slack: { threadTS: string } }).slack.threadTS).toBe(first)
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  })
})
