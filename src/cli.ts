import { parseArgs, type ParseArgsConfig } from 'node:util'
import path from 'node:path'
import os from 'node:os'
import { commands } from './commands/index.js'
import type { CommandArgs, CommandContext } from './runtime/context.js'
import { ConsoleLogger, redact, registerSecret } from './util/logger.js'
import { UsageError, errorMessage } from './util/errors.js'
import { defaultServices, type Services } from './runtime/services.js'
import { parseRegistryCredentials, parseSecrets } from './inputs.js'

const COMMON_FLAGS = {
  'repo-dir': {
    type: 'string',
    description: 'Git working copy holding the config (default: current directory)'
  },
  config: { type: 'string', description: 'Config folder inside the repository (default .waybill)' },
  'state-branch': {
    type: 'string',
    description: 'Branch holding state.json (default waybill/state)'
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
    description: 'Seconds a run may poll in place for waiting steps (default 0)'
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
  help: { type: 'boolean', description: 'Show help' }
} as const satisfies Record<
  string,
  { type: 'string' | 'boolean'; multiple?: boolean; description: string }
>

function usage(): string {
  const lines = ['Usage: waybill <command> [flags]', '', 'Commands:']
  for (const c of Object.values(commands)) lines.push(`  ${c.name.padEnd(12)} ${c.description}`)
  lines.push('', 'Common flags:')
  for (const [name, f] of Object.entries(COMMON_FLAGS))
    lines.push(`  --${name.padEnd(22)} ${f.description}`)
  lines.push('', 'Run `waybill <command> --help` for the flags of one command.')
  return lines.join('\n')
}

function commandUsage(name: string): string {
  const c = commands[name]
  const lines = [`Usage: waybill ${name} [flags]`, '', c.description, '']
  for (const [flag, f] of Object.entries(c.flags))
    lines.push(`  --${flag.padEnd(22)} ${f.description}`)
  return lines.join('\n')
}

/** Builds services from flags and environment, the same way main.ts builds them from inputs. */
export function servicesFromFlags(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv
): Services {
  const s = defaultServices(env)
  const token = (values.token as string | undefined) ?? env.GITHUB_TOKEN
  if (token) {
    s.github.token = token
    s.gitCredentials = [
      { urlPrefix: s.github.serverUrl.replace(/\/?$/, '/'), credentials: { token } }
    ]
    s.registryCredentials['ghcr.io'] = { username: 'x-access-token', password: token }
  }
  if (values['github-api-url']) s.github.apiUrl = values['github-api-url'] as string
  s.github.hosts = (values['github-host'] as string[] | undefined) ?? []
  for (const host of s.github.hosts) {
    if (token) s.gitCredentials.push({ urlPrefix: `http://${host}/`, credentials: { token } })
    if (token) s.gitCredentials.push({ urlPrefix: `https://${host}/`, credentials: { token } })
  }
  s.insecureRegistries = (values['insecure-registry'] as string[] | undefined) ?? []
  Object.assign(
    s.registryCredentials,
    parseRegistryCredentials(
      (values['registry-credentials'] as string | undefined) ??
        env.WAYBILL_REGISTRY_CREDENTIALS ??
        ''
    )
  )
  s.secrets = parseSecrets((values.secrets as string | undefined) ?? env.WAYBILL_SECRETS ?? '')
  const argocdServer = (values['argocd-server'] as string | undefined) ?? env.ARGOCD_SERVER
  if (argocdServer) {
    s.argocd = {
      server: argocdServer,
      token: (values['argocd-token'] as string | undefined) ?? env.ARGOCD_TOKEN,
      insecure: Boolean(values['argocd-insecure']),
      namespace: (values['argocd-namespace'] as string | undefined) ?? 'argocd'
    }
  }
  if (env.WAYBILL_HELM) s.tools.helm = env.WAYBILL_HELM
  if (env.WAYBILL_KUSTOMIZE) s.tools.kustomize = env.WAYBILL_KUSTOMIZE.split(' ')
  registerCredentials(s)
  return s
}

/**
 * Masks every credential as soon as it is read, not when first used: a registry password or a
 * secret() value can show up in output (an echoed response, an error) before the code that uses
 * it runs. Basic auth headers and the string fields of JSON-object secrets are masked too.
 */
function registerCredentials(s: Services): void {
  const basic = (user: string, password: string) =>
    registerSecret(Buffer.from(`${user}:${password}`).toString('base64'))
  registerSecret(s.github.token)
  for (const { credentials: c } of s.gitCredentials) {
    registerSecret(c.token)
    if (c.token) basic(c.username ?? 'x-access-token', c.token)
  }
  for (const c of Object.values(s.registryCredentials)) {
    registerSecret(c.password)
    registerSecret(c.token)
    if (c.password) basic(c.username ?? '', c.password)
  }
  for (const value of Object.values(s.secrets)) {
    registerSecret(value)
    try {
      const parsed: unknown = JSON.parse(value)
      if (parsed && typeof parsed === 'object')
        for (const v of Object.values(parsed)) if (typeof v === 'string') registerSecret(v)
    } catch {
      // not JSON: the string itself
    }
  }
  registerSecret(s.argocd?.token)
}

export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env
): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n')
    return name ? 0 : 2
  }
  const command = commands[name]
  if (!command) {
    process.stderr.write(`waybill: unknown command '${name}'\n\n${usage()}\n`)
    return 2
  }
  let values: Record<string, unknown>
  let positionals: string[]
  try {
    const options = { ...COMMON_FLAGS, ...command.flags } as unknown as ParseArgsConfig['options']
    const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
    values = parsed.values as Record<string, unknown>
    positionals = parsed.positionals
  } catch (err) {
    process.stderr.write(`waybill ${name}: ${errorMessage(err)}\n\n${commandUsage(name)}\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(commandUsage(name) + '\n')
    return 0
  }
  const logger = new ConsoleLogger(Boolean(values.verbose))
  try {
    const services = servicesFromFlags(values, env)
    if (services.github.token) logger.mask(services.github.token)
    if (services.argocd?.token) logger.mask(services.argocd.token)
    const ctx: CommandContext = {
      repoDir: path.resolve((values['repo-dir'] as string | undefined) ?? '.'),
      configDir: (values.config as string | undefined) ?? '.waybill',
      stateBranch: (values['state-branch'] as string | undefined) ?? 'waybill/state',
      remote: (values.remote as string | undefined) ?? 'origin',
      project: values.project as string | undefined,
      json: Boolean(values.json),
      logger,
      services,
      actor: (values.actor as string | undefined) ?? env.GITHUB_ACTOR ?? safeUsername(),
      waitMs: Number(values.wait ?? 0) * 1000,
      repository: (values.repository as string | undefined) ?? env.GITHUB_REPOSITORY,
      deployments: Boolean(values.deployments),
      print: (text) => {
        const out = redact(text)
        process.stdout.write(out.endsWith('\n') ? out : out + '\n')
      },
      now: () => new Date()
    }
    const args: CommandArgs = { ...(values as CommandArgs), _: positionals }
    const result = await command.run(ctx, args)
    return result.exitCode
  } catch (err) {
    logger.error(errorMessage(err))
    return err instanceof UsageError ? 2 : 1
  }
}

function safeUsername(): string | undefined {
  try {
    return os.userInfo().username
  } catch {
    return undefined
  }
}
