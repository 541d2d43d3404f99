import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, type Repo } from './harness.js'

/** Text that discovery records comes from other people's repositories and registries. */
describe('discovered text with control characters', () => {
  let world: World
  let app: Repo
  let gitops: Repo
  beforeAll(async () => {
    world = await World.start()
    app = world.repo('app', { 'main.go': 'package main\n' })
    gitops = world.repo('gitops', {
      '.waybill/warehouse.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - git:
        repoURL: https://github.com/acme/app.git
        branch: main
`
    })
  })
  afterAll(() => world?.close())

  it('becomes freight with the control characters replaced, instead of failing the state write', async () => {
    world.commit(
      app,
      { 'main.go': 'package main // v2\n' },
      'fix \u001b[31mred\u001b[0m text\u0007 here'
    )
    const res = await world.run(gitops, 'discover')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = Object.values(state.freight)[0]
    expect(f.commits[0].message).toMatch(/^fix +\[31mred +\[0m text +here$/)
    expect(JSON.stringify(f)).not.toMatch(/\\u00[01]/)
  })
})
