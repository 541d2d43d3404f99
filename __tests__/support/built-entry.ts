/**
 * Tests that spawn the CLI (or a helper script) as a separate process run a bundle of the current
 * sources, built once per test file with esbuild: `node --import tsx` transpiles every module on
 * each start (about 1.7 s on the 2-core machine), and the crash and race suites start hundreds of
 * processes. The bundle holds the npm packages too, as dist/ does: with the packages left
 * external Node resolves and loads hundreds of files on every start (0.65 s against 0.43 s).
 * Its source map is written next to it but not loaded unless WAYBILL_TEST_SOURCE_MAPS=1: Node
 * parses a whole map before the first line runs (about 0.2 s a start), and only a developer
 * reading a child's stack trace needs it.
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
    removeBundlesOfDeadProcesses(cache)
    const dir = fs.mkdtempSync(path.join(cache, `waybill-test-${process.pid}-`))
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
    outDir = dir
  }
  return outDir
}

/** Bundle folders of test processes that were killed before their exit handler ran. */
function removeBundlesOfDeadProcesses(cache: string): void {
  for (const name of fs.readdirSync(cache)) {
    const pid = /^waybill-test-(\d+)-/.exec(name)?.[1]
    if (pid === undefined || isAlive(Number(pid))) continue
    fs.rmSync(path.join(cache, name), { recursive: true, force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
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
      sourcemap: 'linked',
      // Bundled CommonJS packages call require(); an ES module has none of its own.
      banner: {
        js: "import { createRequire as __waybillRequire } from 'node:module'; const require = __waybillRequire(import.meta.url);"
      },
      logLevel: 'error'
    })
    built.set(source, out)
  }
  return out
}

/** Node arguments that run `entry` from its bundle, with `args` after it. */
export function nodeArgs(entry: string, ...args: string[]): string[] {
  const sourceMaps = process.env.WAYBILL_TEST_SOURCE_MAPS === '1' ? ['--enable-source-maps'] : []
  return [...sourceMaps, builtEntry(entry), ...args]
}
