import { httpStatus, type GitHubClient } from './github.js'

/**
 * Kargo's approver/responder rule (an OIDC claim or a Kargo role), mapped to GitHub identities:
 * - `claim: login` matches the GitHub login;
 * - `claim: team` (or `groups`) matches a member of the team `org/slug` (a bare slug: the
 *   repository owner's team);
 * - `claim: email` matches the user's public email;
 * - `role` matches a repository role: `read` < `triage` < `write` < `maintain` < `admin` match that
 *   level or higher; any other name matches a custom repository role of that name.
 */
export interface IdentityRule {
  claim?: string
  value?: string
  role?: string
}

export const IDENTITY_CLAIMS = ['login', 'team', 'groups', 'email'] as const

export const REPOSITORY_ROLES = ['read', 'triage', 'write', 'maintain', 'admin'] as const

function roleRank(role: string): number {
  return (REPOSITORY_ROLES as readonly string[]).indexOf(role)
}

/** Which repository roles and unqualified teams are resolved in. */
export interface IdentityRepo {
  owner: string
  repo: string
}

/** Describes a rule for messages: `team acme/sre`, `role maintain`, `login alice`. */
export function describeRule(rule: IdentityRule, repo?: IdentityRepo): string {
  if (rule.role) return `role ${rule.role}`
  const claim = rule.claim === 'groups' ? 'team' : (rule.claim ?? '')
  const value =
    claim === 'team' && rule.value && !rule.value.includes('/') && repo
      ? `${repo.owner}/${rule.value}`
      : rule.value
  return `${claim} ${value ?? ''}`.trim()
}

/**
 * Answers "does this user match this rule" against the GitHub API, each lookup made once per
 * instance. A 404 (not a member, no such user or team) is a non-match; other errors propagate.
 */
export class GitHubIdentity {
  private readonly cache = new Map<string, Promise<unknown>>()

  constructor(
    /** Undefined when no API is reachable: only `login` rules can match. */
    private readonly gh: GitHubClient | undefined,
    /** Undefined when the repository is unknown: role rules and unqualified teams never match. */
    private readonly repo: IdentityRepo | undefined
  ) {}

  async matches(login: string, rule: IdentityRule): Promise<boolean> {
    if (rule.role) return this.hasRole(login, rule.role)
    const value = rule.value ?? ''
    switch (rule.claim) {
      case 'login':
        return login.toLowerCase() === value.toLowerCase()
      case 'email': {
        const email = await this.publicEmail(login)
        return !!email && email.toLowerCase() === value.toLowerCase()
      }
      case 'team':
      case 'groups':
        return this.isTeamMember(login, value)
      default:
        return false
    }
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined
    if (!p) {
      p = load()
      this.cache.set(key, p)
    }
    return p
  }

  private async hasRole(login: string, role: string): Promise<boolean> {
    const { repo, gh } = this
    if (!repo || !gh) return false
    const level = await this.once(`role:${login}`, async () => {
      try {
        const { data } = await gh.rest.repos.getCollaboratorPermissionLevel({
          owner: repo.owner,
          repo: repo.repo,
          username: login
        })
        return { roleName: data.role_name, permission: data.permission }
      } catch (err) {
        if (httpStatus(err) === 404) return undefined
        throw err
      }
    })
    if (!level) return false
    const wanted = roleRank(role)
    if (wanted < 0) return level.roleName === role
    // A custom role grants at least its base permission (`permission`: admin, write, read).
    const held = Math.max(roleRank(level.roleName), roleRank(level.permission))
    return held >= wanted
  }

  private async isTeamMember(login: string, team: string): Promise<boolean> {
    const [org, slug] = team.includes('/')
      ? [team.slice(0, team.indexOf('/')), team.slice(team.indexOf('/') + 1)]
      : [this.repo?.owner, team]
    const gh = this.gh
    if (!org || !slug || !gh) return false
    return this.once(`team:${org}/${slug}:${login}`, async () => {
      try {
        const { data } = await gh.rest.teams.getMembershipForUserInOrg({
          org,
          team_slug: slug,
          username: login
        })
        return data.state === 'active'
      } catch (err) {
        if (httpStatus(err) === 404) return false
        throw err
      }
    })
  }

  private async publicEmail(login: string): Promise<string | undefined> {
    const gh = this.gh
    if (!gh) return undefined
    return this.once(`email:${login}`, async () => {
      try {
        const { data } = await gh.rest.users.getByUsername({ username: login })
        return data.email ?? undefined
      } catch (err) {
        if (httpStatus(err) === 404) return undefined
        throw err
      }
    })
  }
}
