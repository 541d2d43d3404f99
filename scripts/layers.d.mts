/** Types for scripts/layers.mjs (the layer order of src/, read by eslint and the tests). */
export declare const LAYERS: string[][]
export declare const KNOWN_VIOLATIONS: Array<{ from: string; to: string; fix: string }>
export declare const SRC: string
export declare function unitOf(file: string): string | undefined
export declare function layerOf(unit: string): number
export declare function resolveSpecifier(fromFile: string, specifier: string): string | undefined
export declare function layerProblem(
  fromFile: string,
  toFile: string,
  opts?: { includeKnown?: boolean }
): string | undefined
export declare function importsOf(
  file: string,
  text?: string
): Array<{ specifier: string; line: number }>
export declare function sourceFiles(dir?: string): string[]
export interface ImportEdge {
  from: string
  line: number
  to: string
  fromUnit: string
  toUnit: string
}
export declare function importEdges(files?: string[]): ImportEdge[]
export declare function unitCycles(
  edges: Array<Pick<ImportEdge, 'fromUnit' | 'toUnit'>>
): string[][]
export declare const eslintPlugin: { rules: Record<string, unknown> }
