// A Warehouse written for Kargo 1.4 (image semverConstraint, allowTags, ignoreTags) loads through
// the real loader and discovers from a real docker-registry exactly as its replacements would.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { discoverWarehouse } from '../../src/discovery/warehouse.js'
import { GitCloneCache } from '../../src/discovery/git/index.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import {
  hasDockerRegistry,
  pushImage,
  skipReason,
  startRegistry,
  type TestRegistry
} from '../support/registry.js'
import { load } from './support.js'

if (!hasDockerRegistry) console.warn(skipReason)
const d = hasDockerRegistry ? describe : describe.skip

const warehouse = (image: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: legacy
spec:
  subscriptions:
  - image:
${image}`

d('deprecated image fields at discovery', () => {
  let reg: TestRegistry
  const gitCache = new GitCloneCache({ workspace: '' })
  beforeAll(async () => {
    reg = await startRegistry()
    for (const tag of ['0.9.0', '1.0.0', '1.1.0', '1.2.0', '2.0.0'])
      await pushImage(reg, 'team/api', tag, { salt: tag })
  })
  afterAll(async () => {
    await gitCache.dispose()
    await reg?.close()
  })

  async function discoverTags(image: string) {
    const { model, problems } = await load({ 'warehouse.yaml': warehouse(image) })
    expect(problems.filter((p) => p.severity === 'error')).toEqual([])
    const result = await discoverWarehouse(model.warehouses.get('legacy')!, undefined, {
      services: defaultServices({}),
      logger: new MemoryLogger(),
      gitCache,
      now: new Date()
    })
    expect(result.problems).toEqual([])
    return {
      tags: result.discovered.images[0].references.map((r) => r.tag),
      warnings: problems.filter((p) => p.severity === 'warning').map((p) => p.field)
    }
  }

  it('semverConstraint, allowTags and ignoreTags select what constraint and the regexes select', async () => {
    const old = await discoverTags(`      repoURL: ${reg.host}/team/api
      semverConstraint: <2.0.0
      allowTags: ^1\\.
      ignoreTags: [1.2.0]
`)
    expect(old.warnings).toEqual([
      'spec.subscriptions[0].image.semverConstraint',
      'spec.subscriptions[0].image.allowTags',
      'spec.subscriptions[0].image.ignoreTags'
    ])
    const current = await discoverTags(`      repoURL: ${reg.host}/team/api
      constraint: <2.0.0
      allowTagsRegexes: ["^1\\\\."]
      ignoreTagsRegexes: ["^1\\\\.2\\\\.0$"]
`)
    expect(current.warnings).toEqual([])
    expect(old.tags).toEqual(['1.1.0', '1.0.0'])
    expect(current.tags).toEqual(old.tags)
  })
})
