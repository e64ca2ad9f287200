// Lint: floating promises anywhere are bugs; workflow code must stay deterministic and free of
// Node built-ins (it runs in Temporal's sandbox and is replayed).
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import tseslint from 'typescript-eslint'

const nodeBuiltins = ['fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'stream', 'timers', 'worker_threads', 'process']

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'coverage/**', 'migrations/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@stylistic': stylistic },
    rules: {
      // One house style (STYLE.md): no semicolons, single quotes.
      '@stylistic/semi': ['error', 'never'],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Sandboxed, replayed code: workflows and the pure domain they import.
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    ignores: ['src/domain/official-calendar.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Node built-ins do not run in the workflow sandbox.' })),
          { name: '@temporalio/activity', message: 'Activities are imported into workflows as types only.' },
          { name: '@temporalio/client', message: 'Workflows never call the client.' },
          { name: '@temporalio/worker', message: 'Workflows never import the worker.' },
        ],
        patterns: [{ group: ['**/activities/**'], allowTypeImports: true, message: 'Import activities with `import type` only.' }],
      }],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Non-deterministic: use workflow-safe randomness (uuid4 from @temporalio/workflow).' },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'No process in the sandbox.' }, { name: 'setInterval', message: 'Use workflow timers (sleep / condition).' }],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    ignores: ['src/domain/official-calendar.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Domain code takes time as input; never reads the clock.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Domain code takes time as input; never reads the clock.' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
)
