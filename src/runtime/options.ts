import os from 'node:os'
import path from 'node:path'
import { flagValues, type FlagSpecs, type FlagValues, type RawArgs } from './flags.js'
import { WAYBILL_GIT_IDENTITY } from '../git/git.js'
import {
  GITHUB_ACTIONS_IDENTITY,
  parseBoolean,
  parseIdentity,
  parsePositiveInteger,
  parseSecondsOrDuration,
  inputName,
  flagName
} from './input-values.js'
import type { GitIdentityOptions } from './services.js'
import { UsageError } from '../util/errors.js'

/**
 * What a run was asked to do, from either entry point: `optionsFromFlags` (the CLI) and
 * `optionsFromInputs` (the action) are the only places that know flag and input names, side by
 * side so they stay in step. `createContext` (create-context.ts) turns options into the
 * CommandContext and Services every command receives.
 */
export interface WaybillOptions {
  /** Working copy holding the config, absolute. */
  repoDir: string
  /** Config folder inside repoDir. */
  configDir: string
  stateBranch: string
  remote: string
  project?: string
  json: boolean
  verbose: boolean
  actor?: string
  /** owner/repo for GitHub Deployments. */
  repository?: string
  runURL?: string
  deployments: boolean
  /** Commit statuses `waybill/<stage>` (on unless turned off). */
  commitStatuses: boolean
  /** How long a run may poll in place for waiting steps. */
  waitSeconds: number
  /** Promotions of different stages one run executes at once (unset: sized to the machine). */
  parallelPromotions?: number
  /** Plan the promotion and show the diff; change nothing remote and write no state. */
  dryRun: boolean
  /** Who commits: step commits, tags and state commits. */
  gitIdentity: GitIdentityOptions
  services: ServiceOptions
}

/**
 * Credentials and endpoints as given. Unset ones fall back to the environment when services are
 * built (GITHUB_TOKEN, WAYBILL_REGISTRY_CREDENTIALS, WAYBILL_SECRETS, ARGOCD_SERVER, ARGOCD_TOKEN).
 */
export interface ServiceOptions {
  token?: string
  githubApiUrl?: string
  /** Extra Git hosts served by the GitHub API. */
  githubHosts: string[]
  /** Registry hosts reached over plain HTTP. */
  insecureRegistries: string[]
  /** `host=username:password` (or `host=token`) lines. */
  registryCredentials?: string
  /** `name=value` lines for secret(). */
  secrets?: string
  argocdServer?: string
  argocdToken?: string
  argocdNamespace?: string
  argocdInsecure: boolean
  /** A GitHub App whose installation token replaces `token` (which stays the fallback). */
  app?: GitHubAppOptions
}

export interface GitHubAppOptions {
  appId: string
  privateKey: string
  installationId?: number
}

/** More promotions at once than this would only queue on the runner's CPUs and the Git host. */
export const MAX_PARALLEL_PROMOTIONS = 64

/** Flags every CLI command takes. */
export const COMMON_FLAGS = {
  'repo-dir': {
    type: 'string',
    description: 'Git working copy holding the config (default: current directory)'
  },
  config: { type: 'string', description: 'Config folder inside the repository (default .waybill)' },
  'state-branch': {
    type: 'string',
    description: 'Branch holding the state: state.json and freight/ (default waybill/state)'
  },
  remote: { type: 'string', description: 'Git remote holding the state branch (default origin)' },
  token: { type: 'string', description: 'GitHub token (default: env GITHUB_TOKEN)' },
  project: { type: 'string', description: 'Project name (default: the repository name)' },
  json: { type: 'boolean', description: 'Print machine-readable JSON on stdout' },
  verbose: { type: 'boolean', description: 'Print debug lines' },
  'insecure-registry': {
    type: 'string',
    multiple: true,
    description: 'Registry host reached over plain HTTP'
  },
  'registry-credentials': {
    type: 'string',
    description: 'host=user:password lines (default: env WAYBILL_REGISTRY_CREDENTIALS)'
  },
  secrets: {
    type: 'string',
    description: 'name=value lines for secret() (default: env WAYBILL_SECRETS)'
  },
  'github-api-url': {
    type: 'string',
    description: 'GitHub REST API URL (default: env GITHUB_API_URL or https://api.github.com)'
  },
  'github-host': {
    type: 'string',
    multiple: true,
    description: 'Extra Git host served by the GitHub API'
  },
  'argocd-server': {
    type: 'string',
    description: 'Argo CD server URL (default: env ARGOCD_SERVER)'
  },
  'argocd-token': { type: 'string', description: 'Argo CD API token (default: env ARGOCD_TOKEN)' },
  'argocd-namespace': {
    type: 'string',
    description: 'Namespace of Argo CD Applications (default argocd)'
  },
  'argocd-insecure': { type: 'boolean', description: 'Skip TLS verification for Argo CD' },
  wait: {
    type: 'string',
    description: 'How long a run may poll in place for waiting steps: 30s, 5m, 1h (default 0)'
  },
  'parallel-promotions': {
    type: 'string',
    description: `Promotions of different stages run at once (1–${MAX_PARALLEL_PROMOTIONS}; default twice the CPUs, at most 16)`
  },
  'dry-run': {
    type: 'boolean',
    description: 'Plan promotions and show their diff; push, open, deploy and record nothing'
  },
  'commit-author': {
    type: 'string',
    description: "Author of Waybill's commits, 'Name <email>' (default Waybill)"
  },
  committer: {
    type: 'string',
    description: "Committer of Waybill's commits, 'Name <email>' (default: the author)"
  },
  'app-id': {
    type: 'string',
    description:
      'GitHub App ID: mint an installation token (key in env WAYBILL_APP_PRIVATE_KEY; default env WAYBILL_APP_ID)'
  },
  'installation-id': {
    type: 'string',
    description: 'GitHub App installation ID (default: found from --repository)'
  },
  actor: {
    type: 'string',
    description: 'Who is acting (default: env GITHUB_ACTOR or the local user)'
  },
  repository: {
    type: 'string',
    description: 'owner/repo for GitHub Deployments (default: env GITHUB_REPOSITORY)'
  },
  deployments: { type: 'boolean', description: 'Record promotions as GitHub Deployments' },
  'no-commit-statuses': {
    type: 'boolean',
    description: 'Do not set waybill/<stage> commit statuses on promoted and source commits'
  },
  help: { type: 'boolean', description: 'Show help' }
} as const satisfies FlagSpecs

export type CommonFlags = FlagValues<typeof COMMON_FLAGS>

/** Credential and endpoint flags (also what tests pass to build Services the way users do). */
export function serviceOptionsFromFlags(f: CommonFlags): ServiceOptions {
  return {
    token: f.token,
    githubApiUrl: f['github-api-url'],
    githubHosts: f['github-host'],
    insecureRegistries: f['insecure-registry'],
    registryCredentials: f['registry-credentials'],
    secrets: f.secrets,
    argocdServer: f['argocd-server'],
    argocdToken: f['argocd-token'],
    argocdNamespace: f['argocd-namespace'],
    argocdInsecure: f['argocd-insecure']
  }
}

/** Both entry points: `Name <email>` values, unset ones falling back to `author`. */
function gitIdentity(
  author: string | undefined,
  committer: string | undefined,
  fallback: GitIdentityOptions['author'],
  label: (name: string) => string
): GitIdentityOptions {
  return {
    author: author ? parseIdentity(label('commit-author'), author) : { ...fallback },
    ...(committer ? { committer: parseIdentity(label('committer'), committer) } : {})
  }
}

function appOptions(
  appId: string | undefined,
  privateKey: string | undefined,
  installationId: string | undefined,
  label: (name: string) => string
): GitHubAppOptions | undefined {
  if (!appId && !privateKey) return undefined
  if (!appId || !privateKey)
    throw new UsageError(
      appId
        ? `${label('app-id')} needs ${label('private-key')}`
        : `${label('private-key')} needs ${label('app-id')}`,
      'set both to authenticate as a GitHub App (or neither to use the token)'
    )
  const id = installationId?.trim()
  if (id && !/^\d+$/.test(id))
    throw new UsageError(`${label('installation-id')} must be a number, not ${JSON.stringify(id)}`)
  return { appId: appId.trim(), privateKey, ...(id ? { installationId: Number(id) } : {}) }
}

/** The CLI: parsed flags, with local defaults (current directory, the local user). */
export function optionsFromFlags(raw: RawArgs, env: NodeJS.ProcessEnv): WaybillOptions {
  const f = flagValues(COMMON_FLAGS, raw)
  return {
    repoDir: path.resolve(f['repo-dir'] ?? '.'),
    configDir: f.config ?? '.waybill',
    stateBranch: f['state-branch'] ?? 'waybill/state',
    remote: f.remote ?? 'origin',
    project: f.project,
    json: f.json,
    verbose: f.verbose,
    actor: f.actor ?? env.GITHUB_ACTOR ?? localUsername(),
    repository: f.repository ?? env.GITHUB_REPOSITORY,
    deployments: f.deployments,
    commitStatuses: !f['no-commit-statuses'],
    waitSeconds: parseSecondsOrDuration(flagName('wait'), f.wait) / 1000,
    parallelPromotions: parsePositiveInteger(
      flagName('parallel-promotions'),
      f['parallel-promotions'],
      MAX_PARALLEL_PROMOTIONS
    ),
    dryRun: f['dry-run'],
    gitIdentity: gitIdentity(
      f['commit-author'],
      f.committer,
      // WAYBILL_GIT_AUTHOR_NAME/EMAIL: the older way to set it, still honoured.
      env.WAYBILL_GIT_AUTHOR_NAME && env.WAYBILL_GIT_AUTHOR_EMAIL
        ? { name: env.WAYBILL_GIT_AUTHOR_NAME, email: env.WAYBILL_GIT_AUTHOR_EMAIL }
        : WAYBILL_GIT_IDENTITY,
      flagName
    ),
    services: {
      ...serviceOptionsFromFlags(f),
      app: appOptions(
        f['app-id'] ?? env.WAYBILL_APP_ID,
        env.WAYBILL_APP_PRIVATE_KEY,
        f['installation-id'] ?? env.WAYBILL_APP_INSTALLATION_ID,
        // The key has no flag (a command line is visible to every process): env only.
        (name) => (name === 'private-key' ? 'env WAYBILL_APP_PRIVATE_KEY' : flagName(name))
      )
    }
  }
}

/** How the action reads its inputs (`core.getInput` / `core.getMultilineInput`). */
export interface ActionInputs {
  get: (name: string) => string
  multiline: (name: string) => string[]
}

/**
 * The action: inputs as action.yml names them (an empty input is unset), with the runner's
 * defaults (GITHUB_WORKSPACE, the repository, the run's URL, JSON output).
 */
export function optionsFromInputs(input: ActionInputs, env: NodeJS.ProcessEnv): WaybillOptions {
  const optional = (name: string) => input.get(name) || undefined
  const bool = (name: string, fallback: boolean) =>
    parseBoolean(inputName(name), input.get(name), fallback)
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com'
  return {
    repoDir: path.resolve(workspace, input.get('repo-dir') || '.'),
    configDir: input.get('config') || '.waybill',
    stateBranch: input.get('state-branch') || 'waybill/state',
    remote: 'origin',
    project: input.get('project') || env.GITHUB_REPOSITORY?.split('/')[1],
    json: true,
    verbose: false,
    actor: env.GITHUB_ACTOR,
    repository: env.GITHUB_REPOSITORY,
    runURL:
      env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${serverUrl}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined,
    deployments: bool('deployments', true),
    commitStatuses: bool('commit-statuses', true),
    waitSeconds: parseSecondsOrDuration(inputName('wait'), input.get('wait')) / 1000,
    parallelPromotions: parsePositiveInteger(
      inputName('parallel-promotions'),
      input.get('parallel-promotions'),
      MAX_PARALLEL_PROMOTIONS
    ),
    dryRun: bool('dry-run', false),
    gitIdentity: gitIdentity(
      optional('commit-author'),
      optional('committer'),
      GITHUB_ACTIONS_IDENTITY,
      inputName
    ),
    services: {
      token: optional('token'),
      githubApiUrl: optional('github-api-url'),
      githubHosts: input.multiline('github-hosts'),
      insecureRegistries: input.multiline('insecure-registries'),
      registryCredentials: optional('registry-credentials'),
      secrets: optional('secrets'),
      argocdServer: optional('argocd-server'),
      argocdToken: optional('argocd-token'),
      argocdNamespace: optional('argocd-namespace'),
      argocdInsecure: bool('argocd-insecure', false),
      app: appOptions(
        optional('app-id'),
        optional('private-key'),
        optional('installation-id'),
        inputName
      )
    }
  }
}

function localUsername(): string | undefined {
  try {
    return os.userInfo().username
  } catch {
    return undefined
  }
}
