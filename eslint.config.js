// ESLint flat config: typescript-eslint with type information over every TypeScript file that
// tsconfig.json checks (src, test, bench, examples and the root config files). Formatting is
// Prettier's job (.prettierrc.json): the configs used here carry no stylistic rules.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals for the few JavaScript files (the `globals` package is not a dependency). */
const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  URL: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

export default defineConfig(
  {
    ignores: [
      'dist/',
      'coverage/',
      'node_modules/',
      // Generated: typedoc's API reference and `npm run docs:workflows`.
      'docs/api/',
      'docs/workflows/',
      // Written by drizzle-kit.
      'src/store/drizzle/migrations/',
      'bench/typecheck/.generated/',
      '.spane-data/',
      '.scratch-sbx/',
      'tmp/',
      // Run under Bun with Elysia, which only CI's cache folder has (scripts/ci-runtimes.sh).
      'test/runtimes/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // The CommonJS fixture, which tsconfig.json excludes because tsc would check it as ESM.
          allowDefaultProject: ['test/fixtures/cli/commonjs/*.ts'],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The habits issue #13 asks for, all errors.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `Promise.all([a?.close(), b.close()])` over optional steps is the house idiom.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      // `_name` marks a binding kept on purpose: a parameter a signature requires, or a property
      // taken out of a rest spread (`const { a: _a, ...rest } = o`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        // A `default` branch is a deliberate catch-all (over SpaneEvent's 13 types, `typeof`'s 8
        // results); a switch without one must name every member of the union, and one over a wider type
        // (`string`) must have a `default`.
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: true },
      ],
    },
  },
  {
    // Type tests bind a value only to read its type (`expectTypeOf<typeof built>()`); vitest
    // compiles these files and never runs them, so "only used as a type" is their purpose.
    files: ['**/*.test-d.ts'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  {
    // CommonJS files (src/cli/register.cjs): `require` is how they import.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, require: 'readonly', module: 'writable', __filename: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
