import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { gitIn, makeRepo, writeFiles } from '../support/git.js'
import { stepContext } from '../support/step-context.js'
import { gitClone } from '../../src/steps/git/git-clone.js'
import { helmTemplate } from '../../src/steps/files/helm-template.js'
import { kustomizeBuild } from '../../src/steps/files/kustomize-build.js'
import { untar } from '../../src/steps/files/untar.js'
import { tar } from '../../src/steps/files/tar.js'
import type { StepContext, StepDefinition } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function run(step: StepDefinition<any>, ctx: StepContext<Capability>, config: unknown) {
  return step.run(step.parse(config), ctx)
}

/** A value that must never reach a rendered manifest. */
const SECRET = 'waybill-s3-canary-9f3b2c'
let saved: string | undefined

beforeAll(() => {
  saved = process.env.INPUT_TOKEN
  process.env.INPUT_TOKEN = SECRET
})
afterAll(() => {
  if (saved === undefined) delete process.env.INPUT_TOKEN
  else process.env.INPUT_TOKEN = saved
})

const CHART = {
  'chart/Chart.yaml': 'apiVersion: v2\nname: leak\nversion: 0.1.0\n',
  'chart/templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  env: {{ .Files.Get "files/env" | quote }}\n'
}

/** Everything under dir, as one string. */
function allText(dir: string): string {
  if (!fs.existsSync(dir)) return ''
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n')
}

describe('links in cloned content are refused before a tool reads them', () => {
  it('helm-template does not render /proc/self/environ from a cloned chart', async () => {
    const r = makeRepo(CHART)
    fs.mkdirSync(path.join(r.work, 'chart/files'))
    fs.symlinkSync('/proc/self/environ', path.join(r.work, 'chart/files/env'))
    gitIn(r.work, 'add', '-A')
    gitIn(r.work, 'commit', '-q', '-m', 'link')
    gitIn(r.work, 'push', '-q', 'origin', 'main')
    const ctx = stepContext()
    await run(gitClone, ctx, { repoURL: r.url, checkout: [{ path: 'src', branch: 'main' }] })
    expect(fs.lstatSync(path.join(ctx.workDir, 'src/chart/files/env')).isSymbolicLink()).toBe(true)
    for (const outPath of ['out.yaml', 'out']) {
      await expect(
        run(helmTemplate, ctx, { path: 'src/chart', outPath, releaseName: 'r' })
      ).rejects.toThrow(
        /helm-template: 'src\/chart\/files\/env' is a symbolic link to '\/proc\/self\/environ', outside/
      )
    }
    expect(allText(ctx.workDir + '/out')).not.toContain(SECRET)
    expect(fs.existsSync(path.join(ctx.workDir, 'out.yaml'))).toBe(false)
  })

  it('helm-template still renders a chart whose links stay inside', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { ...CHART, 'common/env': 'color=blue\n' })
    fs.mkdirSync(path.join(ctx.workDir, 'chart/files'))
    fs.symlinkSync('../../common/env', path.join(ctx.workDir, 'chart/files/env'))
    await run(helmTemplate, ctx, { path: 'chart', outPath: 'out.yaml', releaseName: 'r' })
    expect(fs.readFileSync(path.join(ctx.workDir, 'out.yaml'), 'utf8')).toContain('color=blue')
  })

  it('kustomize-build does not generate a ConfigMap from a link out', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'app/kustomization.yaml':
        'configMapGenerator:\n- name: leak\n  files:\n  - env\ngeneratorOptions:\n  disableNameSuffixHash: true\n'
    })
    fs.symlinkSync('/proc/self/environ', path.join(ctx.workDir, 'app/env'))
    await expect(run(kustomizeBuild, ctx, { path: 'app', outPath: 'out.yaml' })).rejects.toThrow(
      /kustomize-build: 'app\/env' is a symbolic link to '\/proc\/self\/environ'/
    )
    expect(fs.existsSync(path.join(ctx.workDir, 'out.yaml'))).toBe(false)
  })

  it('a chart unpacked by untar with a link out is refused too', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, CHART)
    // tar keeps the link as a link; untar refuses to create one that leaves outPath.
    fs.mkdirSync(path.join(ctx.workDir, 'chart/files'))
    fs.symlinkSync('/proc/self/environ', path.join(ctx.workDir, 'chart/files/env'))
    await run(tar, ctx, { inPath: 'chart', outPath: 'chart.tgz', gzip: true })
    await expect(run(untar, ctx, { inPath: 'chart.tgz', outPath: 'unpacked' })).rejects.toThrow(
      /archive entry 'chart\/files\/env' is a link to '\/proc\/self\/environ', outside outPath/
    )
  })
})
