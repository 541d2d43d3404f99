import { beforeAll, describe, expect, it } from '@jest/globals'
import { routeEvent } from '../../src/events.js'
import type { CommandArgs } from '../../src/runtime/context.js'
import { commitAndPush } from '../support/git.js'
import {
  makePipeline,
  readState,
  runCli,
  sh,
  type Pipeline
} from '../support/reliability-pipeline.js'

/**
 * Untrusted events: workflow_dispatch / repository_dispatch inputs go through the same checks as
 * the CLI (the stage must exist, the freight must exist and be available unless approved, names
 * cannot traverse paths), and a fork's pull request triggers nothing.
 */
const REPO = 'acme/gitops'

/** The CLI arguments the action would run for a routed event. */
function argv(command: string, args: CommandArgs, dir: string): string[] {
  const out = [command, '--repo-dir', dir]
  for (const [k, v] of Object.entries(args)) {
    if (k === 'command' || v === undefined || v === '') continue
    out.push(`--${k}`, String(v))
  }
  return out
}

describe('reliability: untrusted events', () => {
  it('a pull request from a fork cannot trigger promotions (pull_request and pull_request_target)', () => {
    for (const eventName of ['pull_request', 'pull_request_target']) {
      const route = routeEvent({
        eventName,
        command: 'auto',
        inputs: {},
        repository: REPO,
        payload: {
          action: 'closed',
          pull_request: {
            number: 7,
            merged: true,
            head: { repo: { full_name: 'mallory/gitops' } },
            base: { repo: { full_name: REPO } }
          }
        }
      })
      expect(route.command).toBe('none')
      expect(route.skip).toMatch(/fork mallory\/gitops cannot trigger promotions/)
    }
    // The same repository's closed pull request only reconciles.
    const own = routeEvent({
      eventName: 'pull_request',
      command: 'auto',
      inputs: {},
      repository: REPO,
      payload: {
        action: 'closed',
        pull_request: {
          number: 8,
          head: { repo: { full_name: REPO } },
          base: { repo: { full_name: REPO } }
        }
      }
    })
    expect(own.command).toBe('reconcile')
    expect(own.skip).toBeUndefined()
  })

  describe('dispatch inputs through the CLI', () => {
    let p: Pipeline
    let dir: string
    let alias: string

    beforeAll(async () => {
      p = makePipeline()
      dir = p.clone('events')
      // Discovery only: the freight exists but is verified nowhere yet.
      const r = await runCli(['discover', '--repo-dir', dir]).done
      expect(r.code).toBe(0)
      alias = Object.values(readState(p.gitops.bare).freight)[0].alias
    }, 60_000)

    const dispatch = (inputs: Record<string, string>) =>
      routeEvent({
        eventName: 'workflow_dispatch',
        command: 'auto',
        inputs: {},
        repository: REPO,
        payload: { inputs: { command: 'promote', ...inputs } }
      })

    it('a stage that does not exist, or a path as a stage name, is refused; nothing is written', async () => {
      const tip = sh('git', ['--git-dir', p.gitops.bare, 'rev-parse', 'waybill/state'])
      for (const stage of ['staging', '../../etc/passwd', 'test/../prod', '..']) {
        const route = dispatch({ stage, freight: alias })
        expect(route.command).toBe('promote')
        const r = await runCli(argv(route.command, route.args, dir)).done
        expect(r.code).toBe(2)
        expect(r.stderr).toContain(`stage '${stage}' does not exist`)
      }
      expect(sh('git', ['--git-dir', p.gitops.bare, 'rev-parse', 'waybill/state'])).toBe(tip)
    }, 60_000)

    it('freight that does not exist is refused', async () => {
      for (const freight of ['no-such-freight', '../../state.json', '0000000']) {
        const route = dispatch({ stage: 'test', freight })
        const r = await runCli(argv(route.command, route.args, dir)).done
        expect(r.code).toBe(1)
        expect(r.stderr).toContain(`freight '${freight}' does not exist`)
      }
    }, 60_000)

    it('freight not yet available to a stage is refused until it is approved for it', async () => {
      const route = dispatch({ stage: 'prod', freight: alias, 'no-run': 'true' })
      const refused = await runCli(argv(route.command, { ...route.args, 'no-run': undefined }, dir))
        .done
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`freight ${alias} is not available to prod`)
      expect(Object.values(readState(p.gitops.bare).promotions)).toEqual([])
      const approve = await runCli([
        'approve',
        '--repo-dir',
        dir,
        '--stage',
        'prod',
        '--freight',
        alias
      ]).done
      expect(approve.code).toBe(0)
      const queued = await runCli([
        ...argv(route.command, { ...route.args, 'no-run': undefined }, dir),
        '--no-run'
      ]).done
      expect(queued.code).toBe(0)
      const promotions = Object.values(readState(p.gitops.bare).promotions)
      expect(promotions.map((x) => [x.stage, x.phase])).toEqual([['prod', 'Pending']])
    }, 60_000)

    it('repository_dispatch with a hostile payload only reconciles (no command or stage injection)', () => {
      const route = routeEvent({
        eventName: 'repository_dispatch',
        command: 'auto',
        inputs: {},
        repository: REPO,
        payload: { action: 'promote', client_payload: { command: 'abort', stage: '../..' } }
      })
      expect(route.command).toBe('reconcile')
      expect(route.args.stage).toBeUndefined()
      expect(JSON.parse(route.args.event as string).client_payload.stage).toBe('../..')
    })

    it('config names that could traverse paths are refused when the config loads', async () => {
      const bad = p.clone('badcfg')
      commitAndPush(
        bad,
        {
          '.waybill/evil.yaml': [
            'apiVersion: kargo.akuity.io/v1alpha1',
            'kind: Warehouse',
            "metadata: {name: '../../evil'}",
            'spec:',
            `  subscriptions: [{git: {repoURL: '${p.app.url}'}}]`,
            ''
          ].join('\n')
        },
        'evil',
        'evil'
      )
      const r = await runCli(['validate', '--repo-dir', bad]).done
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/must be a lowercase DNS/)
    }, 60_000)
  })
})
