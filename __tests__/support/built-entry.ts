/**
 * Tests that spawn the CLI (or a helper script) as a separate process run a bundle of the current
 * sources, built once per test file with esbuild: `node --import tsx` transpiles every module on
 * each start (about 1.7 s on the 2-core machine), a bundle starts in about 0.4 s, and the crash
 * and race suites start hundreds of processes. npm packages stay external, so the bundle is
 * written inside node_modules/ where Node resolves them as it would for the sources.
 */
import { buildSync } from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const built = new Map<string, string>()
let outDir: string | undefined

function bundleDir(): string {
  if (!outDir) {
    const cache = path.join(ROOT, 'node_modules', '.cache')
    fs.mkdirSync(cache, { recursive: true })
    const dir = fs.mkdtempSync(path.join(cache, `waybill-test-${process.pid}-`))
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
    outDir = dir
  }
  return outDir
}

/** The bundled form of `entry` (a TypeScript file under the repository): a path for `node`. */
export function builtEntry(entry: string): string {
  const source = path.resolve(ROOT, entry)
  let out = built.get(source)
  if (!out) {
    out = path.join(bundleDir(), `${built.size}-${path.basename(source, '.ts')}.mjs`)
    buildSync({
      entryPoints: [source],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'error'
    })
    built.set(source, out)
  }
  return out
}

/** Node arguments that run `entry` from its bundle, with `args` after it. */
export function nodeArgs(entry: string, ...args: string[]): string[] {
  return ['--enable-source-maps', builtEntry(entry), ...args]
}
