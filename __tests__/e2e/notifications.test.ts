/**
 * examples/notifications end to end: every promotion writes the freight's application commit to
 * `stage/<stage>` and announces itself in Slack through the example's MessageChannel: a success
 * message when every step worked, the `if: ${{ failure() }}` message (and no success message)
 * when a step failed. Real git over smart HTTP, the fake GitHub, and the fake Slack of
 * __tests__/support/slack-fake.ts holding chat.postMessage to Slack's contract.
 *
 * The credentials are the example workflow's own `secrets` input line, with the repository
 * secret filled in and, test-only, the secret's `apiURL` pointed at the fake (the way World
 * rewrites github.com URLs): the channel, its secretRef and the workflow must agree for any
 * message to arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { servicesFromFlags } from '../../src/cli.js'
import { MemoryLogger } from '../../src/util/logger.js'
import type { State } from '../../src/state/types.js'
import { gitIn, sh } from '../support/git.js'
import { startFakeSlack, type FakeSlack } from '../support/slack-fake.js'
import { World, currentAlias, freightByCommit, lastPromotion, type Repo } from './harness.js'

const BOT_TOKEN = 'xoxb-notifications-e2e-7f3a9c'
const CHANNEL_ID = 'C0123456789'
const MANIFEST = (n: number) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: ${n}\n`

/** The `secrets` input of the example workflow's Waybill step, as GitHub would expand it. */
function workflowSecrets(workflow: string, values: Record<string, string>): string {
  const wf = parse(workflow) as {
    jobs: Record<string, { steps: { uses?: string; with?: Record<string, string> }[] }>
  }
  const step = Object.values(wf.jobs)
    .flatMap((j) => j.steps)
    .find((s) => s.uses?.startsWith('waybill-dev/waybill@'))
  const text = step?.with?.secrets
  if (!text) throw new Error('the example workflow passes no secrets input')
  return text.replace(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`the test has no value for secrets.${name}`)
    return values[name]
  })
}

/** Test-only: every JSON secret gets `apiURL` (Slack's API base) pointing at the fake. */
function pointAtFake(lines: string, apiURL: string): string {
  return lines
    .split('\n')
    .map((line) => {
      const eq = line.indexOf('=')
      if (
        eq <= 0 ||
        !line
          .slice(eq + 1)
          .trim()
          .startsWith('{')
      )
        return line
      const value = JSON.parse(line.slice(eq + 1)) as Record<string, string>
      return `${line.slice(0, eq)}=${JSON.stringify({ ...value, apiURL })}`
    })
    .join('\n')
}

describe('examples/notifications: promotions announced in Slack', () => {
  let world: World
  let slack: FakeSlack
  let app: Repo
  let gitops: Repo
  let secretsFlag: string
  const gh = { repository: 'acme/gitops' }
  const logs: string[] = []
  const texts = () => slack.posts.map((p) => String(p.body.text))

  /** Runs a command as the workflow would: the example's secrets, GitHub's token. */
  async function run(command: string, args: Record<string, string> = {}) {
    const base = world.context(gitops, new MemoryLogger(), gh).services
    // Parsed like the action input (and registered for masking, as the action does).
    const { secrets } = servicesFromFlags({ secrets: secretsFlag }, {})
    const res = await world.run(gitops, command, args, { ...gh, services: { ...base, secrets } })
    logs.push(res.logs)
    return res
  }
  const stageVersion = (stage: string) =>
    world.file(gitops, `stage/${stage}`, 'version.txt')?.trim()

  beforeAll(async () => {
    slack = await startFakeSlack({ botToken: BOT_TOKEN, webhookPath: '/services/T0/B0/unused' })
    world = await World.start({ github: true })
    app = world.repo('app', { 'deploy/deployment.yaml': MANIFEST(1), 'main.go': 'package main\n' })
    const files = world.exampleFiles('notifications')
    gitops = world.repo('gitops', files)
    secretsFlag = pointAtFake(
      workflowSecrets(files['.github/workflows/waybill.yml'], { SLACK_BOT_TOKEN: BOT_TOKEN }),
      `${slack.url}/api`
    )
  })
  afterAll(async () => {
    world?.github?.assertNoViolations()
    await world?.close()
    await slack?.close()
  })

  it('validates as shipped', async () => {
    const res = await run('validate')
    expect(res.exitCode).toBe(0)
    expect(res.logs).not.toMatch(/warning|error/i)
  })

  it('a new app commit is auto-promoted to test and announced once, naming stage and freight', async () => {
    const c1 = world.commit(app, { 'deploy/deployment.yaml': MANIFEST(2) }, 'two replicas')
    const res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(f).toBeDefined()
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(lastPromotion(state, 'test', f.name)!.phase).toBe('Succeeded')

    // The stage branch holds the freight's commit and its manifests.
    expect(stageVersion('test')).toBe(c1)
    expect(world.file(gitops, 'stage/test', 'deploy/deployment.yaml')).toBe(MANIFEST(2).trimEnd())
    expect(world.branches(gitops)).not.toContain('stage/prod')

    // Exactly one message, the success one, to the channel's default channel ID.
    expect(slack.posts).toEqual([
      {
        via: 'api',
        body: {
          channel: CHANNEL_ID,
          text: `:white_check_mark: app ${c1.slice(0, 7)} (freight ${f.alias}) is now in test (auto-promoted)`
        }
      }
    ])
    expect(lastPromotion(state, 'test', f.name)!.state['deploy::notify-success']).toEqual({
      slack: { threadTS: expect.any(String), ts: expect.any(String), channelID: CHANNEL_ID }
    })
  })

  it('a manual promotion to prod is announced once more, with who promoted', async () => {
    const before = slack.posts.length
    const res = await run('promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const alias = currentAlias(state, 'prod')!
    expect(alias).toBe(currentAlias(state, 'test'))
    expect(stageVersion('prod')).toBe(stageVersion('test'))
    const news = texts().slice(before)
    expect(news).toEqual([
      `:white_check_mark: app ${stageVersion('prod')!.slice(0, 7)} (freight ${alias}) is now in prod (promoted by e2e-tester)`
    ])
  })

  it('a commit that breaks a step fails the promotion and announces the failure only', async () => {
    const before = slack.posts.length
    const good = stageVersion('test')
    // The manifests move out of deploy/: the copy step of the promotion cannot find them.
    gitIn(app.work, 'rm', '-rq', 'deploy')
    const bad = world.commit(app, { 'k8s/deployment.yaml': MANIFEST(3) }, 'move manifests')
    world.advance(6)
    const res = await run('reconcile')
    const state: State = await world.state(gitops)
    const f = freightByCommit(state, bad)!
    expect(f).toBeDefined()
    const p = lastPromotion(state, 'test', f.name)!
    expect(p.phase).toBe('Errored')
    expect(p.message).toBe(
      "step 'deploy::copy-manifests' (copy): copy.inPath: './app/deploy' does not exist"
    )
    expect(res.exitCode).toBe(1)

    // test keeps the good freight; its branch is untouched.
    expect(currentAlias(state, 'test')).not.toBe(f.alias)
    expect(stageVersion('test')).toBe(good)

    // One message: the failure one, naming the stage, the freight and the promotion.
    const news = slack.posts.slice(before)
    expect(news).toHaveLength(1)
    expect(news[0].body.channel).toBe(CHANNEL_ID)
    expect(news[0].body.text).toBe(
      `:x: promotion ${p.name} of app ${bad.slice(0, 7)} (freight ${f.alias}) to test failed; test keeps its current freight`
    )
    expect(
      texts()
        .slice(before)
        .some((t) => t.startsWith(':white_check_mark:'))
    ).toBe(false)
    expect(p.state['deploy::notify-success']).toBeUndefined()
    expect(p.state['deploy::notify-failure']).toEqual({
      slack: { threadTS: expect.any(String), ts: expect.any(String), channelID: CHANNEL_ID }
    })
  })

  it('no token reaches the logs, the state or any branch', () => {
    const all = logs.join('\n')
    expect(all.length).toBeGreaterThan(0)
    for (const token of [BOT_TOKEN, world.token]) {
      expect(all).not.toContain(token)
      // Every commit of every branch (state, stage branches) of the config repository.
      const history = sh('git', ['--git-dir', gitops.bare, 'log', '--all', '-p', '--format=%B'])
      expect(history).not.toContain(token)
    }
  })
})
