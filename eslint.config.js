// Lint: floating promises anywhere are bugs; workflow code must stay deterministic and free of
// Node built-ins (it runs in Temporal's sandbox and is replayed); and the layers keep to their
// boundaries (STYLE.md 6 and 13), proven rule by rule in test/unit/boundaries.test.ts:
// - src/domain imports nothing outside src/domain but a few pure libraries;
// - src/api/routes never touch SQL: queries live in src/db repositories;
// - src/workflows import only src/domain, workflow code and activities' types.
import { builtinModules } from 'node:module'
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import tseslint from 'typescript-eslint'

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'))
const noNodeBuiltins = {
  regex: `^(node:|(${nodeBuiltins.join('|')})(/|$))`,
  message: 'Node built-ins do not run in the workflow sandbox.',
}

/** The files `depth` folders below `root`: an import leaves `root` with `depth + 1` `../`. */
const levelsBelow = (root) => [0, 1, 2, 3].map((depth) => ({ depth, files: [`${root}/${'*/'.repeat(depth)}*.ts`] }))
const leaving = (depth) => `^(\\.\\./){${depth + 1}}`

// One `no-restricted-imports` per file (a later config would replace, not add to, an earlier one's).
const domainBoundary = levelsBelow('src/domain').map(({ depth, files }) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        noNodeBuiltins,
        { regex: leaving(depth), message: 'src/domain imports nothing outside src/domain: the rules stay pure.' },
        {
          regex: '^(?!\\.|typebox(/|$)|json-logic-js$|chinese-days(/|$))',
          message: 'src/domain uses only pure libraries (typebox, json-logic-js, chinese-days data and lunar dates).',
        },
      ],
    }],
  },
}))

const workflowBoundary = levelsBelow('src/workflows').map(({ depth, files }) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      paths: [
        { name: '@temporalio/activity', message: 'Activities are imported into workflows as types only.' },
        { name: '@temporalio/client', message: 'Workflows never call the client.' },
        { name: '@temporalio/worker', message: 'Workflows never import the worker.' },
      ],
      patterns: [
        noNodeBuiltins,
        { group: ['**/activities/**'], allowTypeImports: true, message: 'Import activities with `import type` only.' },
        {
          regex: `${leaving(depth)}(?!(domain|workflows|activities)/)`,
          message: 'Workflows import only src/domain, workflow code and activities\' types: never src/db, src/api or src/infra.',
        },
        {
          regex: '^chinese-days(/|$)|(^|/)domain/(official-calendar|statutory-holidays)(\\.ts)?$',
          message: 'Workflows get calendars as data (CalendarData), never the chinese-days package that src/db builds them from.',
        },
      ],
    }],
  },
}))

const routeBoundary = {
  files: ['src/api/routes/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        { regex: '^(drizzle-orm|pg)(/|$)', message: 'Routes never touch SQL: put the query in a src/db repository and call it.' },
        { regex: '(^|/)db/schema(\\.ts)?$', message: 'Routes never touch tables: put the query in a src/db repository and call it.' },
      ],
    }],
  },
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'coverage/**', 'migrations/**', '.stryker-tmp/**', 'reports/**'] },
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
  ...domainBoundary,
  ...workflowBoundary,
  routeBoundary,
  {
    // Sandboxed, replayed code: workflows and the pure domain they import.
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    ignores: ['src/domain/official-calendar.ts'],
    rules: {
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
  {
    // The one CommonJS module (src/infra/failure-converter.cjs): the SDK require()s it by path.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable' } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
)
