import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Freight } from '../../src/freight/types.js'
import { emptyFreightStatus } from '../../src/freight/types.js'
import type { StepContext } from '../../src/steps/types.js'
import { CAPABILITIES, grantCapabilities, type Capability } from '../../src/steps/capabilities.js'
import type { Services } from '../../src/runtime/services.js'
import { emptyState } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'

/** Services with nothing configured; tests override the parts they use. */
export function testServices(overrides: Partial<Services> = {}): Services {
  return {
    gitCredentials: [],
    registryCredentials: {},
    insecureRegistries: [],
    secrets: {},
    github: {
      apiUrl: 'http://127.0.0.1:9/api',
      serverUrl: 'http://127.0.0.1:9',
      hosts: []
    },
    tools: { helm: 'helm', kustomize: ['kustomize', 'build'] },
    ...overrides
  }
}

export function testFreight(overrides: Partial<Freight> = {}): Freight {
  return {
    name: '0123456789abcdef0123456789abcdef01234567',
    alias: 'fancy-otter',
    origin: { kind: 'Warehouse', name: 'main' },
    discoveredAt: '2026-01-01T00:00:00Z',
    commits: [],
    images: [
      {
        repoURL: 'ghcr.io/example/app',
        tag: '1.2.3',
        digest: 'sha256:' + 'a'.repeat(64)
      }
    ],
    charts: [],
    status: emptyFreightStatus(),
    ...overrides
  }
}

export { emptyState }

/**
 * A StepContext for calling a step directly: a fresh working directory, a MemoryLogger (its
 * lines are on `ctx.logger.lines`), one freight, empty state, and every capability granted over
 * `services` (default testServices()).
 */
export function stepContext(
  overrides: Partial<Omit<StepContext<Capability>, 'logger' | 'caps'>> & {
    logger?: MemoryLogger
    services?: Services
  } = {}
): StepContext<Capability> & { logger: MemoryLogger } {
  const { services = testServices(), ...rest } = overrides
  const workDir = rest.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-step-'))
  const freight = rest.targetFreight ?? testFreight()
  const logger = rest.logger ?? new MemoryLogger()
  return {
    project: 'test',
    stage: 'test-stage',
    promotion: 'test-stage.01jtest.0123456',
    alias: 'step-1',
    outputs: {},
    state: emptyState(),
    now: () => new Date(),
    ...rest,
    caps: grantCapabilities(CAPABILITIES, services, { logger, signal: rest.signal }),
    workDir,
    targetFreight: freight,
    freight: rest.freight ?? [freight],
    logger
  }
}
