import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError } from '../../util/errors.js'

const setFreightAliasSchema = z.strictObject({
  name: z.string().min(1),
  alias: z.string().min(1)
})
export type SetFreightAliasConfig = z.output<typeof setFreightAliasSchema>

/** `set-freight-alias`: renames a piece of freight (aliases are unique per project). */
export const setFreightAliasStep = defineStep({
  name: 'set-freight-alias',
  schema: setFreightAliasSchema,
  async run(config, ctx) {
    const all = Object.values(ctx.state.freight)
    const f = ctx.state.freight[config.name] ?? all.find((x) => x.alias === config.name)
    if (!f) {
      throw new ConfigFieldError(
        'set-freight-alias.name',
        `freight '${config.name}' does not exist`
      )
    }
    const taken = all.find((x) => x.alias === config.alias && x.name !== f.name)
    if (taken) {
      return {
        status: 'Failed',
        message: `alias '${config.alias}' is already used by freight ${taken.name}`
      }
    }
    return {
      status: 'Succeeded',
      effects: [{ kind: 'freight-alias', freight: f.name, alias: config.alias }]
    }
  }
})
