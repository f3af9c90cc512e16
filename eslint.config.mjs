// ESLint (flat config): typescript-eslint's recommended rules, and the layers of DESIGN.md enforced
// on the Nx tags: apps use libraries, libraries use libraries, nothing imports an app, and code
// that ships never imports test-only code (@collab/testing, any library's /testing entry).
// Formatting is Prettier's (`npx prettier --check .`), so no style rules here.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const TEST_FILES = ['**/*.spec.ts', '**/test/**/*.ts', '**/testing.ts', 'libs/testing/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'tmp/**', 'coverage/**', '.nx/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: false,
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
          ],
        },
      ],
      // Matching control characters is what our sanitisers and parsers do on purpose.
      'no-control-regex': 'off',
      // Unused arguments that document a callback's shape are fine when prefixed with _.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Shipped code: apps' and libraries' sources, minus their tests and test doubles.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@collab/testing', '@collab/*/testing'], message: 'Test-only code must never ship: import it from tests only.' },
            { group: ['**/test/**', '**/*.spec'], message: 'Shipped code must not import tests.' },
          ],
        },
      ],
    },
  },
  prettier,
);
