// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.agentic/**', 'sdk/python/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', URLSearchParams: 'readonly', performance: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', AbortController: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly', structuredClone: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The web dashboard runs in a browser (src/ui, bundled by scripts/buildUi.mjs).
    files: ['src/ui/**/*.ts'],
    languageOptions: { globals: { document: 'readonly', location: 'readonly', history: 'readonly', EventSource: 'readonly', addEventListener: 'readonly', removeEventListener: 'readonly', HTMLElement: 'readonly', HTMLDialogElement: 'readonly', HTMLButtonElement: 'readonly', MessageEvent: 'readonly', Event: 'readonly' } },
  },
);
