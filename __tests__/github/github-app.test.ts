/**
 * GitHub App authentication against the fake GitHub: the JWT is verified with the app's public
 * key, the installation is looked up from the repository, the token is minted from GitHub's
 * installation-token endpoint (validated against the OpenAPI description), used, and refreshed
 * before it expires.
 */
import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { startGitHubFake, jwtProblem, type GitHubFake } from '../support/github-fake.js'
import {
  authenticateAsApp,
  GitHubAppTokens,
  normalizePrivateKey
} from '../../src/integrations/github-app.js'
import { defaultServices } from '../../src/runtime/services.js'
import { githubClient } from '../../src/integrations/github.js'
import { MemoryLogger, redact } from '../../src/util/logger.js'

const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const privateKey = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
const otherKey = crypto
  .generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString()

let gh: GitHubFake
beforeAll(async () => {
  gh = await startGitHubFake({
    app: { id: 4242, publicKey, installationId: 77, tokenTtlMs: 3_600_000 }
  })
  gh.addRepo('acme', 'gitops', '/nonexistent')
})
afterAll(async () => {
  gh.assertNoViolations()
  await gh.close()
})

describe('GitHub App authentication', () => {
  test('mints an installation token found from the repository and uses it for the REST API', async () => {
    const logger = new MemoryLogger()
    const tokens = new GitHubAppTokens(
      { appId: '4242', privateKey, repository: 'acme/gitops', apiUrl: gh.url },
      logger
    )
    const t = await tokens.token()
    expect(t.token).toMatch(/^ghs_/)
    expect(redact(`token ${t.token}`)).not.toContain(t.token)
    expect(gh.installationTokens.has(t.token)).toBe(true)

    const services = defaultServices({})
    services.github.apiUrl = gh.url
    const stop = await authenticateAsApp(services, tokens)
    stop()
    expect(services.github.token).toBe(t.token)
    expect(services.registryCredentials['ghcr.io'].password).toBe(t.token)
    const repo = await githubClient(services, logger).rest.repos.get({
      owner: 'acme',
      repo: 'gitops'
    })
    expect(repo.data.full_name).toBe('acme/gitops')
  })

  test('the fake refuses a JWT signed with another key (so the check above is real)', async () => {
    const logger = new MemoryLogger()
    const tokens = new GitHubAppTokens(
      { appId: '4242', privateKey: otherKey, installationId: 77, apiUrl: gh.url },
      logger
    )
    await expect(tokens.token()).rejects.toThrow(/refused the app's JSON web token/)
  })

  test('an app not installed on the repository says how to install it', async () => {
    const logger = new MemoryLogger()
    const tokens = new GitHubAppTokens(
      { appId: '4242', privateKey, repository: 'acme/elsewhere', apiUrl: gh.url },
      logger
    )
    await expect(tokens.token()).rejects.toThrow(/not installed on acme\/elsewhere/)
  })

  test('refreshes the token before it expires, and the old one stops working', async () => {
    const logger = new MemoryLogger()
    let clock = Date.now()
    const tokens = new GitHubAppTokens(
      { appId: '4242', privateKey, installationId: 77, apiUrl: gh.url },
      logger,
      () => new Date(clock)
    )
    const first = await tokens.token()
    expect((await tokens.token()).token).toBe(first.token)
    clock = first.expiresAt.getTime() - 5 * 60_000 // inside the refresh margin
    const second = await tokens.token()
    expect(second.token).not.toBe(first.token)
  })

  test('accepts a private key pasted as one line with \\n escapes', () => {
    expect(normalizePrivateKey(privateKey.trim().replace(/\n/g, '\\n'))).toBe(privateKey)
  })

  test('JWT checks follow GitHub: iss, expiry at most 10 minutes', () => {
    const sign = (payload: object) => {
      const h = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url')
      const p = Buffer.from(JSON.stringify(payload)).toString('base64url')
      const s = crypto
        .sign('RSA-SHA256', Buffer.from(`${h}.${p}`), privateKey)
        .toString('base64url')
      return `${h}.${p}.${s}`
    }
    const now = Math.floor(Date.now() / 1000)
    const app = { id: 4242, publicKey, installationId: 77 }
    expect(jwtProblem(sign({ iss: 4242, iat: now - 30, exp: now + 540 }), app)).toBeUndefined()
    expect(jwtProblem(sign({ iss: 1, iat: now, exp: now + 60 }), app)).toMatch(/iss/)
    expect(jwtProblem(sign({ iss: 4242, iat: now, exp: now + 3600 }), app)).toMatch(
      /too far in the future/
    )
  })
})
