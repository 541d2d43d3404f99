import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import { worktreeAt } from './common.js'

const schema = z.strictObject({ path: z.string().min(1) })
export type GitClearConfig = z.infer<typeof schema>

/** Removes everything in a working tree except `.git`. */
export const gitClear = defineStep({
  name: 'git-clear',
  schema,
  async run(cfg, ctx): Promise<StepResult> {
    const dir = await worktreeAt(ctx, cfg.path)
    for (const entry of fs.readdirSync(dir)) {
      if (entry === '.git') continue
      fs.rmSync(path.join(dir, entry), { recursive: true, force: true })
    }
    ctx.logger.info(`Cleared ${cfg.path}`)
    return { status: 'Succeeded' }
  }
})
