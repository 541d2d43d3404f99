import { describe, expect, it } from '@jest/globals'
import { createRequire } from 'node:module'
import { promotionWaitingOn, routeEvent, type RouteInput } from '../src/events.js'
import { UsageError } from '../src/util/errors.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const require = createRequire(import.meta.url)
const examples = require('@octokit/webhooks-examples') as Array<{ name: string; examples: Json[] }>
const example = (name: string, match: (p: Json) => boolean = () => true): Json =>
  JSON.parse(JSON.stringify(examples.find((e) => e.name === name)!.examples.find(match)!)) as Json

const route = (over: Partial<RouteInput>) =>
  routeEvent({ eventName: '', payload: {}, command: 'auto', inputs: {}, ...over })

describe('routeEvent', () => {
  it('schedule and unknown events reconcile', () => {
    expect(route({ eventName: 'schedule', payload: { schedule: '*/10 * * * *' } })).toMatchObject({
      command: 'reconcile',
      args: {}
    })
  })

  it('workflow_dispatch maps inputs to the command and its arguments, ignoring other inputs', () => {
    const p = example('workflow_dispatch')
    p.inputs = {
      command: 'assemble',
      warehouse: 'guestbook',
      image: 'ghcr.io/acme/app=1.2.3\nghcr.io/acme/api=2.0.0',
      commit: 'https://github.com/acme/cfg.git=abc1234',
      chart: 'oci://ghcr.io/acme/charts/app=1.0.0',
      dry_run: 'true'
    }
    const r = route({ eventName: 'workflow_dispatch', payload: p })
    expect(r.command).toBe('assemble')
    expect(r.args).toEqual({
      warehouse: 'guestbook',
      image: 'ghcr.io/acme/app=1.2.3\nghcr.io/acme/api=2.0.0',
      commit: 'https://github.com/acme/cfg.git=abc1234',
      chart: 'oci://ghcr.io/acme/charts/app=1.0.0'
    })
    p.inputs = { command: 'abort', stage: 'prod', promotion: 'prod.01abc.1234567' }
    expect(route({ eventName: 'workflow_dispatch', payload: p })).toMatchObject({
      command: 'abort',
      args: { stage: 'prod', promotion: 'prod.01abc.1234567' }
    })
    p.inputs = {}
    expect(route({ eventName: 'workflow_dispatch', payload: p }).command).toBe('reconcile')
  })

  it("the workflow's own inputs win over dispatch inputs", () => {
    const p = example('workflow_dispatch')
    p.inputs = { command: 'promote', stage: 'prod', freight: 'latest' }
    const r = route({ eventName: 'workflow_dispatch', payload: p, inputs: { stage: 'test' } })
    expect(r.args).toEqual({ stage: 'test', freight: 'latest' })
  })

  it('rejects unknown commands and malformed values with a clear error', () => {
    const p = example('workflow_dispatch')
    p.inputs = { command: 'init' }
    expect(() => route({ eventName: 'workflow_dispatch', payload: p })).toThrow(
      /unknown command 'init' \(workflow_dispatch input 'command'\)/
    )
    expect(() => route({ command: 'destroy' })).toThrow(UsageError)
    p.inputs = { command: 'promote', stage: 'prod\n::error::spoofed' }
    expect(() => route({ eventName: 'workflow_dispatch', payload: p })).toThrow(
      /'stage' contains control characters/
    )
    p.inputs = { command: 'promote', stage: 'x'.repeat(600) }
    expect(() => route({ eventName: 'workflow_dispatch', payload: p })).toThrow(/longer than/)
    p.inputs = { command: 'promote', stage: { nested: true } }
    expect(() => route({ eventName: 'workflow_dispatch', payload: p })).toThrow(/must be a string/)
  })

  it('an explicit command input wins over the event', () => {
    const r = route({ eventName: 'push', payload: example('push'), command: 'status' })
    expect(r).toMatchObject({ command: 'status', reason: 'input command' })
  })

  describe('pull_request', () => {
    const closed = (head: string | null, base = 'Codertocat/Hello-World', merged = true) => {
      const p = example('pull_request', (x) => x.action === 'closed')
      p.pull_request.merged = merged
      if (head === null) p.pull_request.head.repo = null
      else p.pull_request.head.repo.full_name = head
      p.pull_request.base.repo.full_name = base
      return p
    }
    it('closed in the same repository reconciles without discovery and names the PR', () => {
      const r = route({ eventName: 'pull_request', payload: closed('Codertocat/Hello-World') })
      expect(r.command).toBe('reconcile')
      expect(r.args['event-name']).toBe('pull_request')
      expect(r.pullRequest).toEqual({
        number: 2,
        url: 'https://github.com/Codertocat/Hello-World/pull/2',
        merged: true
      })
    })
    it('from a fork (or a deleted fork) is skipped', () => {
      expect(
        route({ eventName: 'pull_request', payload: closed('mallory/Hello-World') }).skip
      ).toMatch(/from fork mallory\/Hello-World cannot trigger promotions/)
      expect(route({ eventName: 'pull_request_target', payload: closed(null) }).skip).toMatch(
        /fork \(deleted\)/
      )
    })
    it('other actions are skipped', () => {
      const p = example('pull_request', (x) => x.action === 'opened')
      p.pull_request.head.repo.full_name = p.pull_request.base.repo.full_name
      expect(route({ eventName: 'pull_request', payload: p }).skip).toMatch(/pull_request opened/)
    })
  })

  it('status-page publishes the pipeline page on every reconcile, and only there', () => {
    const schedule = { eventName: 'schedule', payload: {} }
    expect(route({ ...schedule, statusPage: true }).args['publish-page']).toBe(true)
    expect(route({ ...schedule, statusPage: false }).args['publish-page']).toBeUndefined()
    expect(route({ ...schedule, command: 'status', statusPage: true }).args).toEqual({})
    const fork = example('pull_request', (x) => x.action === 'closed')
    fork.pull_request.head.repo.full_name = 'mallory/Hello-World'
    const skipped = route({ eventName: 'pull_request', payload: fork, statusPage: true })
    expect(skipped.args['publish-page']).toBeUndefined()
  })

  it('registry events carry the payload to discovery', () => {
    const p = example('package', (x) => Boolean(x.package.package_version.container_metadata))
    const r = route({ eventName: 'registry_package', payload: p })
    expect(r.command).toBe('reconcile')
    expect(r.args['event-name']).toBe('registry_package')
    expect(JSON.parse(r.args.event as string)).toEqual(p)
  })
})

describe('promotionWaitingOn', () => {
  const url = 'https://github.com/acme/gitops/pull/2'
  const promotions = {
    a: { name: 'a', phase: 'Running', message: `waiting for pull request #2 (${url})` },
    b: { name: 'b', phase: 'Succeeded', message: `waiting for pull request #3 (${url}0)` },
    c: { name: 'c', phase: 'Running', state: { 'open-pr': { pr: { id: 20, url: `${url}0` } } } }
  }
  it('finds the unfinished promotion that names the PR URL exactly', () => {
    expect(promotionWaitingOn(promotions, { number: 2, url })).toBe('a')
    expect(promotionWaitingOn(promotions, { number: 20, url: `${url}0` })).toBe('c')
    expect(promotionWaitingOn(promotions, { number: 3, url: `${url}3` })).toBeUndefined()
  })
})
