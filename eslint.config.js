// Lint holds the architecture's lines (STYLE.md): the core is pure, and each third-party library
// is wrapped in one place.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CORE = ['src/domain/**', 'src/schema/**', 'src/conditions/**', 'src/compile/**', 'src/engine/**', 'src/tester/**'];
const edge = (name) => ({ group: name, message: 'the core is pure: no I/O, HTTP, storage or CLI here (STYLE.md)' });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'test-results/**', 'test/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setImmediate: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', NodeJS: 'readonly', AbortController: 'readonly', TextEncoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['json-rules-engine', 'jsonpath-plus'], message: 'only src/conditions imports json-rules-engine' },
            { group: ['lowdb', 'lowdb/*', 'write-file-atomic'], message: 'only src/small-state.ts imports lowdb and write-file-atomic: small state is written durably there' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/small-state.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['json-rules-engine', 'jsonpath-plus'], message: 'only src/conditions imports json-rules-engine' }] }],
    },
  },
  {
    files: CORE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            edge(['node:fs', 'node:fs/*', 'fs', 'node:http', 'node:net', 'node:child_process', 'node:os']),
            edge(['hono', 'hono/*', '@hono/*', 'lowdb', 'lowdb/*', 'commander', 'yaml']),
            edge(['**/loader/*', '**/http/*', '**/cli/*', '**/audit/*', '**/service/*', '**/server.js']),
            { group: ['json-rules-engine', 'jsonpath-plus'], message: 'only src/conditions imports json-rules-engine' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/conditions/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [edge(['node:fs', 'node:fs/*', 'fs', 'hono', 'hono/*', 'lowdb', '**/loader/*', '**/http/*', '**/cli/*', '**/audit/*'])] },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
