/**
 * Jest on ESM TypeScript: ts-jest transpiles each file in isolation (fast); `npm run lint`
 * type-checks. Two projects (CONTRIBUTING.md, Tests):
 * - unit: every test not listed below. Runs under __tests__/support/unit-guard.cjs, which fails
 *   a test that starts a server, connects to the network or runs helm, a registry, a browser or
 *   a git server. `npm run test:unit` runs only this project.
 * - integration: the files listed here (real servers, fakes over HTTP, helm, chromium, killed
 *   processes). Their timeout is sized for a loaded 2-core machine, where an e2e test that
 *   takes 10 s when quiet can take minutes.
 */
const INTEGRATION = [
  '__tests__/e2e/**',
  '__tests__/reliability/**',
  '__tests__/security/**',
  // No servers, but they spawn the CLI or many git processes: too slow for the fast loop.
  '__tests__/action-entry.test.ts',
  '__tests__/cli.test.ts',
  '__tests__/config/validate-cli.test.ts',
  '__tests__/steps/git-local.test.ts',
  '__tests__/argocd-client.test.ts',
  '__tests__/argocd-health.test.ts',
  '__tests__/deployments.test.ts',
  '__tests__/support-git-http.test.ts',
  '__tests__/support-github-fake.test.ts',
  '__tests__/discovery/chart.test.ts',
  '__tests__/config/deprecated-discovery.test.ts',
  '__tests__/discovery/ghcr-hint.test.ts',
  '__tests__/http/client.test.ts',
  '__tests__/discovery/git.test.ts',
  '__tests__/github/github-app.test.ts',
  '__tests__/github/github-errors.test.ts',
  '__tests__/discovery/image-fake.test.ts',
  '__tests__/discovery/image-registry.test.ts',
  '__tests__/pipeline/noop-reconcile.test.ts',
  '__tests__/report/status-page-browser.test.ts',
  '__tests__/state/concurrency.test.ts',
  '__tests__/steps/approval.test.ts',
  '__tests__/steps/argocd-update.test.ts',
  '__tests__/steps/argocd-wait.test.ts',
  '__tests__/steps/control.test.ts',
  '__tests__/steps/files.test.ts',
  '__tests__/steps/github-steps.test.ts',
  '__tests__/steps/gha-workflows.test.ts',
  '__tests__/steps/helm.test.ts',
  '__tests__/steps/kustomize.test.ts',
  '__tests__/steps/oci.test.ts'
].map((p) => `**/${p}`)

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  resolver: 'ts-jest-resolver',
  testPathIgnorePatterns: ['/dist/', '/node_modules/', '/.tools/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', useESM: true, diagnostics: false }]
  },
  setupFiles: ['<rootDir>/__tests__/support/setup-env.cjs']
}

export default {
  maxWorkers: 2,
  testTimeout: 300_000,
  reporters: ['default', '<rootDir>/__tests__/support/summary-reporter.cjs'],
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/__tests__/**/*.test.ts', ...INTEGRATION.map((p) => `!${p}`)],
      // The guard also lowers the timeout to 120 s (jest reads testTimeout globally only).
      setupFilesAfterEnv: ['<rootDir>/__tests__/support/unit-guard.cjs']
    },
    {
      ...shared,
      displayName: 'integration',
      // Only test files: helpers under the listed folders (e2e/harness.ts) are not suites.
      testMatch: INTEGRATION.map((p) => (p.endsWith('/**') ? `${p}/*.test.ts` : p))
    }
  ]
}
