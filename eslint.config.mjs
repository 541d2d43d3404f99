import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import { eslintPlugin as layers } from './scripts/layers.mjs'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'coverage/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
      ],
      'no-new-func': 'error',
      'no-eval': 'error'
    }
  },
  // Type-aware rules (floating and misused promises, unnecessary assertions, unsafe any) on the
  // TypeScript sources; tests keep the promise rules but may handle untyped JSON fixtures.
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Steps, commands and fakes implement async interfaces; an implementation with nothing to
      // await is still correct. Floating and misused promises stay errors.
      '@typescript-eslint/require-await': 'off'
    }
  },
  {
    files: ['__tests__/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off'
    }
  },
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['__tests__/**/*.cjs'], languageOptions: { globals: { ...globals.jest } } },
  // The layer order of src/ (scripts/layers.mjs; CONTRIBUTING.md, Layers).
  { files: ['src/**/*.ts'], plugins: { waybill: layers }, rules: { 'waybill/layers': 'error' } }
)
