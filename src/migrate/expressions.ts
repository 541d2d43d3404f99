/**
 * Kargo expressions that replace older implicit behaviour: the artifact a Freight carries for a
 * repository (imageFrom / commitFrom / chartFrom), optionally from one origin, and step outputs.
 */

/** An expression argument for a config value: `vars.x` for `${{ vars.x }}`, else a quoted literal. */
export function exprArg(value: string): string {
  const m = /^\$\{\{\s*([\s\S]*?)\s*\}\}$/.exec(value.trim())
  return m && !m[1].includes('}}') ? m[1] : JSON.stringify(value)
}

/** `warehouse("name")` for an origin mapping `{kind: Warehouse, name}`, else undefined. */
export function originArg(origin: unknown): string | undefined {
  const o = origin as { kind?: unknown; name?: unknown } | undefined
  if (!o || typeof o.name !== 'string' || (o.kind !== undefined && o.kind !== 'Warehouse'))
    return undefined
  return `warehouse(${JSON.stringify(o.name)})`
}

function call(fn: string, args: (string | undefined)[]): string {
  return `${fn}(${args.filter((a) => a !== undefined).join(', ')})`
}

export function wrap(expr: string): string {
  return `\${{ ${expr} }}`
}

export function imageFrom(image: string, origin?: string): string {
  return call('imageFrom', [exprArg(image), origin])
}

export function commitFrom(repoURL: string, origin?: string): string {
  return call('commitFrom', [exprArg(repoURL), origin])
}

/** OCI chart repositories name the chart in the URL (`oci://registry/chart`); classic ones apart. */
export function chartFrom(repository: string, name: string | undefined, origin?: string): string {
  if (repository.startsWith('oci://') && name)
    return call('chartFrom', [JSON.stringify(`${repository.replace(/\/+$/, '')}/${name}`), origin])
  return call('chartFrom', [exprArg(repository), name ? JSON.stringify(name) : undefined, origin])
}

/** `outputs['alias'].key` (bracket form: aliases are often kebab-case). */
export function output(alias: string, key: string): string {
  return `outputs[${JSON.stringify(alias).replace(/^"|"$/g, "'")}].${key}`
}

/** Value of an image in one of the forms Kargo 0.x / 1.0 named (Tag, Digest, ImageAndTag, …). */
export function imageValue(kind: string, image: string, origin?: string): string | undefined {
  const img = imageFrom(image, origin)
  switch (kind) {
    case 'Tag':
      return wrap(`${img}.Tag`)
    case 'Digest':
      return wrap(`${img}.Digest`)
    case 'ImageAndTag':
      return wrap(`${img}.RepoURL + ":" + ${img}.Tag`)
    case 'ImageAndDigest':
      return wrap(`${img}.RepoURL + "@" + ${img}.Digest`)
    default:
      return undefined
  }
}
