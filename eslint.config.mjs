import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const runtimeFolders = ['collector/**', 'pipeline/**', 'tracker/**'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'cdktf.out/**', 'coverage/**', '.gen/**', 'examples/site/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Runtime code runs in a browser, a Node server or a JVM script engine: it never reaches into the construct library.
    files: runtimeFolders,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/lib', '**/lib/**', 'cdktf', 'constructs', '@cdktf/*'], message: 'Runtime folders never import lib/ or cdktf.' }] }],
    },
  },
  {
    // Tests read synthesized Terraform JSON and wire-format payloads, which are untyped by nature.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
