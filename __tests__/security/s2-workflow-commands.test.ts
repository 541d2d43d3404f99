import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { routeEvent } from '../../src/events.js'
import { parseSecrets } from '../../src/runtime/credential-lines.js'
import { servicesFromOptions } from '../../src/runtime/create-context.js'
import { optionsFromInputs } from '../../src/runtime/options.js'
import {
  COMMAND_ESCAPE,
  ConsoleLogger,
  escapeWorkflowCommands,
  MemoryLogger,
  redact,
  unescapeWorkflowCommands
} from '../../src/util/logger.js'

/**
 * Issue 12, items 5 and 8: untrusted text (a repository_dispatch tag, an HTTP response, a
 * repository file) printed `::add-mask::`, `::error::` or `::stop-commands::` through the
 * logger; client_payload was not shape-checked; strings nested in a JSON secret were not masked.
 */

/**
 * What the Actions runner would take as a command in one output line: v2 syntax after its
 * TrimStart, or the v1 `##[` syntax anywhere (ActionCommand.TryParseV2 / TryParse).
 */
function runnerSeesCommand(output: string): boolean {
  return output.split(/\r\n|\r|\n/).some(
    // eslint-disable-next-line no-control-regex
    (line) => /^[\s\u0085\u001c-\u001f]*::[\w-]+( [^:]*)?::/.test(line) || /##\[[\w-]+/.test(line)
  )
}

const HOSTILE = [
  '::add-mask::ghs_innocent',
  '  ::error file=a.yaml::fake failure',
  '\t::stop-commands::abc123',
  'tag ok\r::set-output name=x::y',
  'first\n\u001f::warning::from a file',
  'x ##[add-mask]older syntax',
  '\u00a0::group::nbsp'
]

describe('logger neutralises workflow commands in every method', () => {
  it('ConsoleLogger (the CLI, whose stderr a workflow log also parses)', async () => {
    const lines: string[] = []
    const log = new ConsoleLogger(true, (l) => lines.push(l))
    for (const h of HOSTILE) {
      log.info(h)
      log.debug(h)
      log.notice(h)
      log.warn(h)
      log.error(h)
      await log.group(h, async () => log.info(h))
    }
    const out = lines.join('\n')
    expect(runnerSeesCommand(out)).toBe(false)
    expect(out).toContain(`:${COMMAND_ESCAPE}:add-mask::ghs_innocent`)
  })

  it('MemoryLogger records what would be written', async () => {
    const log = new MemoryLogger()
    for (const h of HOSTILE) {
      log.info(h)
      log.warn(h)
      await log.group(h, async () => undefined)
    }
    expect(runnerSeesCommand(log.text())).toBe(false)
  })

  it('the hostile lines really are commands before escaping (the check above can fail)', () => {
    for (const h of HOSTILE) expect(runnerSeesCommand(h)).toBe(true)
  })

  it('leaves ordinary text alone and is lossless for any text', () => {
    for (const t of ['a :: b', 'http://[::1]:5000/x', 'deploy v1.2.3', '{"a": "b::c"}'])
      expect(escapeWorkflowCommands(t)).toBe(t)
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('::', '##[', COMMAND_ESCAPE, ' ', '\n', '\r', 'x', ':', '#', '['),
          {
            maxLength: 30
          }
        ),
        (parts) => {
          const text = parts.join('')
          const escaped = escapeWorkflowCommands(text)
          expect(unescapeWorkflowCommands(escaped)).toBe(text)
          expect(runnerSeesCommand(escaped.replace(/::[\w-]*$/, ''))).toBe(false)
        }
      )
    )
  })
})

describe('repository_dispatch client_payload is shape-checked', () => {
  const route = (client_payload: unknown) =>
    routeEvent({
      eventName: 'repository_dispatch',
      command: 'auto',
      inputs: {},
      payload: { action: 'image-pushed', client_payload }
    })

  it('accepts the shapes relays send', () => {
    expect(route({ image: 'ghcr.io/acme/app', tag: 'v1.2.3' }).command).toBe('reconcile')
    expect(
      route({
        event_data: { resources: [{ resource_url: 'harbor.lan/p/app:1.0', tag: '1.0' }] },
        repository: { repo_name: 'acme/app', full_description: 'line one\nline two' },
        push_data: { tag: '1.0' }
      }).command
    ).toBe('reconcile')
  })

  it('refuses control characters, wrong types and oversized values, naming the field', () => {
    expect(() => route({ image: 'ghcr.io/acme/app', tag: 'v1\n::add-mask::x' })).toThrow(
      /client_payload\.tag contains control characters/
    )
    expect(() => route({ event_data: { resources: [{ tag: 'a\u0007' }] } })).toThrow(
      /client_payload\.event_data\.resources\[0\]\.tag contains control characters/
    )
    expect(() => route({ tag: 42 })).toThrow(/client_payload\.tag must be a string/)
    expect(() => route({ updated_tags: 'v1' })).toThrow(
      /client_payload\.updated_tags must be a list/
    )
    expect(() => route({ image: 'x'.repeat(600) })).toThrow(
      /client_payload\.image is longer than 512/
    )
    expect(() => route({ updated_tags: Array.from({ length: 101 }, (_, i) => `v${i}`) })).toThrow(
      /more than 100 entries/
    )
    expect(() => route(['not', 'an', 'object'])).toThrow(/client_payload must be an object/)
  })
})

describe('JSON secrets are masked leaf by leaf', () => {
  it('every nested string of a JSON secret is redacted on its own', () => {
    const json = JSON.stringify({
      db: { user: 'svc-user-name', password: 'p@ss"word-nested' },
      keys: ['first-key-in-list', { deep: 'deepest-leaf-value' }],
      port: 5432
    })
    // The action's `secrets` input, read the way the action reads it.
    const inputs = {
      get: (n: string) => (n === 'secrets' ? `creds=${json}` : ''),
      multiline: () => []
    }
    servicesFromOptions(optionsFromInputs(inputs, {}).services, {})
    expect(parseSecrets(`creds=${json}`).creds).toBe(json)
    const out = redact(
      'user svc-user-name pw p@ss"word-nested key first-key-in-list deep deepest-leaf-value raw p@ss\\"word-nested'
    )
    expect(out).toBe('user *** pw *** key *** deep *** raw ***')
  })
})
