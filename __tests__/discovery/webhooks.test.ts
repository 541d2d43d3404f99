import { describe, expect, it } from '@jest/globals'
import { createRequire } from 'node:module'
import type { Warehouse } from '../../src/config/schema.js'
import {
  commitsFromPush,
  imagesFromDispatch,
  imagesFromEvent,
  repoIdentity,
  warehousesForEvent
} from '../../src/discovery/webhooks.js'

const require = createRequire(import.meta.url)
interface ExampleSet {
  name: string
  examples: Array<Record<string, unknown>>
}
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as ExampleSet[]
const byEvent = (name: string) => examples.find((e) => e.name === name)!.examples

type Sub = Warehouse['spec']['subscriptions'][number]
function warehouse(name: string, subscriptions: Sub[]): Warehouse {
  return {
    apiVersion: 'kargo.akuity.io/v1alpha1',
    kind: 'Warehouse',
    metadata: { name },
    spec: { interval: '5m0s', freightCreationPolicy: 'Automatic', subscriptions }
  }
}
const image = (repoURL: string) => ({ image: { repoURL } }) as Sub
const git = (repoURL: string, extra: Record<string, unknown> = {}) =>
  ({ git: { repoURL, commitSelectionStrategy: 'NewestFromBranch', ...extra } }) as Sub

const model = {
  warehouses: new Map<string, Warehouse>([
    [
      'hello',
      warehouse('hello', [
        image('ghcr.io/codertocat/hello-world'),
        git('https://github.com/Codertocat/Hello-World.git', { excludePaths: ['builds'] })
      ])
    ],
    [
      'docs',
      warehouse('docs', [
        git('https://github.com/codertocat/hello-world', { includePaths: ['glob:**/*.md'] })
      ])
    ],
    [
      'other-branch',
      warehouse('other-branch', [
        git('https://github.com/Codertocat/Hello-World', { branch: 'develop' })
      ])
    ],
    [
      'tags',
      warehouse('tags', [
        git('git@github.com:Codertocat/Hello-World.git', { commitSelectionStrategy: 'SemVer' })
      ])
    ],
    ['hub', warehouse('hub', [image('nginx'), image('docker.io/acme/api')])],
    ['harbor', warehouse('harbor', [image('harbor.example.com/library/app')])],
    ['quay', warehouse('quay', [image('quay.io/acme/worker')])],
    ['chart', warehouse('chart', [{ chart: { repoURL: 'oci://ghcr.io/acme/charts/app' } } as Sub])]
  ])
}

describe('GitHub package events (real @octokit/webhooks-examples payloads)', () => {
  const docker = byEvent('package').find(
    (e) =>
      (e.package as { package_version: Record<string, unknown> }).package_version.container_metadata
  )!

  it('finds the container image of a GHCR package event', () => {
    const imgs = imagesFromEvent('package', docker)
    expect(imgs.map((i) => i.repoURL)).toContain('ghcr.io/codertocat/hello-world')
    expect(imgs[0].digest).toBe('sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b')
    expect(imgs[0].tag).toBeUndefined() // tag.name is "" in per-manifest events
  })

  it('routes registry_package (same package shape) to the subscribed warehouse only', () => {
    const payload = { ...docker, registry_package: docker.package }
    delete (payload as Record<string, unknown>).package
    const r = warehousesForEvent(model, 'registry_package', payload)
    expect(r.warehouses).toEqual(['hello'])
    expect(r.reason).toMatch(/^registry_package: .*ghcr\.io\/codertocat\/hello-world.* → hello$/)
  })

  it('uses package_url when GitHub sends it, and routes OCI charts', () => {
    const r = warehousesForEvent(model, 'registry_package', {
      action: 'published',
      registry_package: {
        name: 'app',
        namespace: 'acme',
        package_version: {
          package_url: 'ghcr.io/acme/charts/app:1.2.3',
          container_metadata: { tag: { name: '1.2.3', digest: 'sha256:abc' } }
        }
      }
    })
    expect(r.warehouses).toEqual(['chart'])
  })

  it('ignores repository_dispatch without an image (real example payload)', () => {
    const r = warehousesForEvent(model, 'repository_dispatch', byEvent('repository_dispatch')[0])
    expect(r.warehouses).toEqual([])
    expect(r.reason).toMatch(/no image found/)
  })
})

describe('repository_dispatch relayed registry webhooks', () => {
  it('Docker Hub: push_data.tag and repository.repo_name (official images under library/)', () => {
    const hub = {
      callback_url: 'https://registry.hub.docker.com/u/acme/api/hook/x/',
      push_data: { pushed_at: 1417566161, pusher: 'trustedbuilder', tag: '1.4.0' },
      repository: { repo_name: 'acme/api', namespace: 'acme', name: 'api', is_private: false }
    }
    expect(imagesFromDispatch(hub)).toEqual([{ repoURL: 'acme/api', tag: '1.4.0' }])
    expect(
      warehousesForEvent(model, 'repository_dispatch', {
        event_type: 'image-push',
        client_payload: hub
      }).warehouses
    ).toEqual(['hub'])
    const official = { push_data: { tag: '1.27' }, repository: { repo_name: 'nginx' } }
    expect(
      warehousesForEvent(model, 'repository_dispatch', { client_payload: official }).warehouses
    ).toEqual(['hub'])
  })

  it('Harbor: event_data.resources[].resource_url', () => {
    const harbor = {
      type: 'PUSH_ARTIFACT',
      occur_at: 1680000000,
      operator: 'admin',
      event_data: {
        resources: [
          {
            digest: 'sha256:' + 'c'.repeat(64),
            tag: 'v2',
            resource_url: 'harbor.example.com/library/app:v2'
          }
        ],
        repository: { name: 'app', namespace: 'library', repo_full_name: 'library/app' }
      }
    }
    expect(imagesFromDispatch(harbor)).toEqual([
      { repoURL: 'harbor.example.com/library/app', tag: 'v2', digest: 'sha256:' + 'c'.repeat(64) }
    ])
    expect(
      warehousesForEvent(model, 'repository_dispatch', { client_payload: harbor }).warehouses
    ).toEqual(['harbor'])
  })

  it('Quay: docker_url and updated_tags; plain {image, tag, digest}', () => {
    const quay = {
      name: 'worker',
      repository: 'acme/worker',
      namespace: 'acme',
      docker_url: 'quay.io/acme/worker',
      homepage: 'https://quay.io/repository/acme/worker',
      updated_tags: ['latest', '3.1']
    }
    expect(imagesFromDispatch(quay).map((i) => i.tag)).toEqual(['latest', '3.1'])
    expect(
      warehousesForEvent(model, 'repository_dispatch', { client_payload: quay }).warehouses
    ).toEqual(['quay'])
    const plain = {
      image: 'ghcr.io/codertocat/hello-world:1.0.0',
      digest: 'sha256:' + 'd'.repeat(64)
    }
    expect(imagesFromDispatch(plain)).toEqual([
      {
        repoURL: 'ghcr.io/codertocat/hello-world',
        tag: '1.0.0',
        digest: 'sha256:' + 'd'.repeat(64)
      }
    ])
    expect(
      warehousesForEvent(model, 'repository_dispatch', {
        client_payload: { image: 'ghcr.io/nobody/x', tag: '1' }
      })
    ).toEqual({
      warehouses: [],
      reason: 'repository_dispatch: no warehouse subscribes to ghcr.io/nobody/x:1'
    })
  })
})

describe('push events (real @octokit/webhooks-examples payloads)', () => {
  const push = byEvent('push').find(
    (e) => e.ref === 'refs/heads/master' && (e.commits as unknown[]).length
  )!

  it('reads the repository, branch and changed files', () => {
    const p = commitsFromPush(push)!
    expect(p.branch).toBe('master')
    expect(p.paths).toEqual(['README.md'])
    expect(p.repos).toContain('github.com/codertocat/hello-world')
    expect(repoIdentity('git@github.com:Codertocat/Hello-World.git')).toBe(
      'github.com/codertocat/hello-world'
    )
  })

  it('selects warehouses following that branch whose path filters match the changed files', () => {
    const r = warehousesForEvent(model, 'push', push)
    // hello: default branch, README.md not excluded; docs: glob matches; other-branch: develop;
    // tags: tag strategy ignores branch pushes.
    expect(r.warehouses).toEqual(['docs', 'hello'])
    const onlyBuilds = structuredClone<Record<string, unknown>>(push)
    ;(onlyBuilds.commits as Array<Record<string, unknown>>)[0].added = ['builds/prod/app.yaml']
    expect(warehousesForEvent(model, 'push', onlyBuilds).warehouses).toEqual([])
  })

  it('routes tag pushes to tag strategies and ignores Waybill’s own branches', () => {
    const tag = byEvent('push').find((e) => e.ref === 'refs/tags/simple-tag' && !e.deleted)!
    expect(warehousesForEvent(model, 'push', tag).warehouses).toEqual(['tags'])
    const state = { ...push, ref: 'refs/heads/waybill/state' }
    expect(warehousesForEvent(model, 'push', state)).toEqual({
      warehouses: [],
      reason: "push to Waybill's own branch waybill/state: nothing to discover"
    })
  })

  it('treats a push with too many commits to list as touching every path', () => {
    const big = structuredClone<Record<string, unknown>>(push)
    big.commits = Array.from({ length: 20 }, () => ({
      added: ['builds/x'],
      modified: [],
      removed: []
    }))
    expect(commitsFromPush(big)!.paths).toBeUndefined()
    expect(warehousesForEvent(model, 'push', big).warehouses).toEqual(['docs', 'hello'])
  })

  it('discovers every warehouse on schedule', () => {
    expect(warehousesForEvent(model, 'schedule', {}).warehouses).toHaveLength(8)
  })
})
