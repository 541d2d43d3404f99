import type { CommandContext } from './context.js'
import type { ServiceOptions, WaybillOptions } from './options.js'
import { defaultServices, type Services } from './services.js'
import { parseRegistryCredentials, parseSecrets } from './credential-lines.js'
import { registerSecret, registerSecretValue, type Logger } from '../util/logger.js'

/** What only the entry point knows: where logs and machine output go, and the environment. */
export interface ContextIO {
  logger: Logger
  print: (text: string) => void
  env: NodeJS.ProcessEnv
}

/** The one place options become the CommandContext (and its Services) a command receives. */
export function createContext(options: WaybillOptions, io: ContextIO): CommandContext {
  return {
    repoDir: options.repoDir,
    configDir: options.configDir,
    stateBranch: options.stateBranch,
    remote: options.remote,
    project: options.project,
    json: options.json,
    logger: io.logger,
    services: {
      ...servicesFromOptions(options.services, io.env),
      gitIdentity: options.gitIdentity
    },
    actor: options.actor,
    runURL: options.runURL,
    repository: options.repository,
    deployments: options.deployments,
    commitStatuses: options.commitStatuses,
    waitMs: options.waitSeconds * 1000,
    parallelPromotions: options.parallelPromotions,
    dryRun: options.dryRun,
    print: io.print,
    now: () => new Date()
  }
}

/** Services from credential options, falling back to the environment for what is unset. */
export function servicesFromOptions(o: ServiceOptions, env: NodeJS.ProcessEnv): Services {
  const s = defaultServices(env)
  const token = o.token ?? env.GITHUB_TOKEN
  if (token) {
    s.github.token = token
    s.gitCredentials = [
      { urlPrefix: s.github.serverUrl.replace(/\/?$/, '/'), credentials: { token } }
    ]
    s.registryCredentials['ghcr.io'] = { username: 'x-access-token', password: token }
  }
  if (o.githubApiUrl) s.github.apiUrl = o.githubApiUrl
  s.github.hosts = [...o.githubHosts]
  for (const host of s.github.hosts) {
    if (token) s.gitCredentials.push({ urlPrefix: `http://${host}/`, credentials: { token } })
    if (token) s.gitCredentials.push({ urlPrefix: `https://${host}/`, credentials: { token } })
  }
  s.insecureRegistries = [...o.insecureRegistries]
  Object.assign(
    s.registryCredentials,
    parseRegistryCredentials(o.registryCredentials ?? env.WAYBILL_REGISTRY_CREDENTIALS ?? '')
  )
  s.secrets = parseSecrets(o.secrets ?? env.WAYBILL_SECRETS ?? '')
  const argocdServer = o.argocdServer ?? env.ARGOCD_SERVER
  if (argocdServer) {
    s.argocd = {
      server: argocdServer,
      token: o.argocdToken ?? env.ARGOCD_TOKEN,
      insecure: o.argocdInsecure,
      namespace: o.argocdNamespace ?? 'argocd'
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
 * it runs. Basic auth headers and every string leaf of a JSON secret are masked too.
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
  for (const value of Object.values(s.secrets)) registerSecretValue(value)
  registerSecret(s.argocd?.token)
}
