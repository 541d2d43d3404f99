import { describe, expect, it } from '@jest/globals'
import {
  commitUrlFor,
  githubRepoFor,
  parseRepoUrl,
  requireGitHubRepo
} from '../../src/integrations/repo-url.js'
import { testServices } from '../support/step-context.js'

const dotcom = testServices({
  github: { apiUrl: 'https://api.github.com', serverUrl: 'https://github.com', hosts: [] }
})
const ghes = testServices({
  github: {
    apiUrl: 'https://ghe.corp.example/api/v3',
    serverUrl: 'https://ghe.corp.example',
    hosts: ['127.0.0.1:8080']
  }
})

describe('parseRepoUrl', () => {
  it.each([
    [
      'https://github.com/acme/app.git',
      { scheme: 'https', host: 'github.com', owner: 'acme', repo: 'app' }
    ],
    [
      'https://github.com/acme/app/',
      { scheme: 'https', host: 'github.com', owner: 'acme', repo: 'app' }
    ],
    [
      'https://x-access-token@GitHub.com:443/acme/app',
      { scheme: 'https', host: 'github.com', owner: 'acme', repo: 'app' }
    ],
    [
      'git@github.com:acme/app.git',
      { scheme: 'ssh', host: 'github.com', owner: 'acme', repo: 'app' }
    ],
    [
      'ssh://git@github.com:22/acme/app.git',
      { scheme: 'ssh', host: 'github.com', owner: 'acme', repo: 'app' }
    ],
    [
      'http://127.0.0.1:8080/acme/app.git',
      { scheme: 'http', host: '127.0.0.1:8080', owner: 'acme', repo: 'app' }
    ],
    [
      'https://gitlab.com/group/sub/app.git',
      { scheme: 'https', host: 'gitlab.com', owner: 'group/sub', repo: 'app' }
    ],
    ['file:///tmp/x/remote.git', { scheme: 'file', host: '', owner: 'tmp/x', repo: 'remote' }]
  ])('%s', (url, expected) => {
    expect(parseRepoUrl(url)).toEqual(expected)
  })
  it('rejects non-URLs', () => {
    expect(parseRepoUrl('not a url')).toBeUndefined()
    expect(parseRepoUrl('https://github.com/')).toBeUndefined()
  })
})

describe('githubRepoFor', () => {
  it('recognises github.com, the GHES server host and configured hosts', () => {
    expect(githubRepoFor(dotcom, 'https://github.com/acme/app.git')).toEqual({
      owner: 'acme',
      repo: 'app',
      host: 'github.com',
      apiUrl: 'https://api.github.com',
      serverUrl: 'https://github.com'
    })
    expect(githubRepoFor(ghes, 'https://ghe.corp.example/acme/app')).toMatchObject({
      apiUrl: 'https://ghe.corp.example/api/v3',
      serverUrl: 'https://ghe.corp.example'
    })
    // github.com stays github.com even when the workflow runs on GHES.
    expect(githubRepoFor(ghes, 'https://github.com/acme/app')).toMatchObject({
      apiUrl: 'https://api.github.com',
      serverUrl: 'https://github.com'
    })
    expect(githubRepoFor(ghes, 'http://127.0.0.1:8080/acme/app.git')).toMatchObject({
      owner: 'acme'
    })
    expect(githubRepoFor(dotcom, 'https://gitlab.com/acme/app')).toBeUndefined()
    expect(githubRepoFor(dotcom, 'file:///tmp/acme/app.git')).toBeUndefined()
    expect(githubRepoFor(dotcom, 'https://github.com/a/b/c')).toBeUndefined()
  })
  it('builds commit URLs only for GitHub-served repositories', () => {
    expect(commitUrlFor(dotcom, 'git@github.com:acme/app.git', 'abc')).toBe(
      'https://github.com/acme/app/commit/abc'
    )
    expect(commitUrlFor(dotcom, 'https://example.org/acme/app.git', 'abc')).toBeUndefined()
    expect(commitUrlFor(dotcom, 'https://example.org/acme/app.git', 'abc', 'github')).toBe(
      'https://github.com/acme/app/commit/abc'
    )
  })
  it('refuses other providers and unknown hosts with clear messages', () => {
    expect(() => requireGitHubRepo(dotcom, 'https://gitlab.com/a/b', 'gitlab')).toThrow(
      /provider gitlab is not supported yet/
    )
    expect(() => requireGitHubRepo(dotcom, 'https://git.example.org/a/b', undefined)).toThrow(
      /is not a GitHub repository/
    )
  })
})
