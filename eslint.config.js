// Lint rules for the whole repository (`npm run lint`, part of `npm test`).
//
// The rule that matters most: domain code (consult, visits, devices, video, family, …) reaches
// the record store only through a Repository (store.as(ctx) / store.system(reason)) and its own
// tables only through that repository's DomainSql. The raw storage, the FHIR engine, the guard,
// the audit writer and the database drivers are not importable there (type-only imports of
// shared types are fine). See docs/architecture.md, "One way in".
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders holding domain code (a new domain goes here too). */
export const DOMAIN_FOLDERS = [
  'consult',
  'visits',
  'devices',
  'video',
  'family',
  'seed',
  'terminology',
  'consent',
  'training',
  'programme',
  'imaging',
  'cds',
  'formats',
  'surveillance',
  'chart',
];

const storeMessage =
  'Domain code reaches the record only through a Repository (app.store.as(req.ctx[, action]) or app.store.system(reason)), and its own tables through repo.sql.';

export default tseslint.config(
  { ignores: ['web/dist/**', 'node_modules/**', 'test-results/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        structuredClone: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        performance: 'readonly',
        crypto: 'readonly',
        queueMicrotask: 'readonly',
        Blob: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        FormData: 'readonly',
      },
    },
    rules: {
      // Casts at the FHIR JSON boundary are deliberate; the validator checks the shapes.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-control-regex': 'off',
    },
  },
  {
    files: [`src/{${DOMAIN_FOLDERS.join(',')}}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/db/db.ts', '**/db/migrate.ts'], allowTypeImports: true, message: `The database handle is not for domain code. ${storeMessage}` },
            {
              group: ['**/fhir/storage.ts', '**/fhir/service.ts', '**/fhir/search.ts', '**/fhir/bundle.ts', '**/auth/guard.ts'],
              allowTypeImports: true,
              message: `The raw store is not for domain code. ${storeMessage}`,
            },
            {
              group: ['**/audit/audit.ts'],
              allowTypeImports: true,
              message: 'Domain code records its actions with repo.record(...), in the same transaction as the action.',
            },
            {
              group: ['pg', 'pg-copy-streams', '@electric-sql/pglite', '@electric-sql/pglite/*'],
              message: `No database driver in domain code. ${storeMessage}`,
            },
          ],
          paths: [
            {
              name: '../auth/access.ts',
              importNames: ['AccessControl'],
              message: "Access decisions are the repository's: ask repo.reaches(patientId) or read through the repository.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['web/public/sw.js'],
    languageOptions: { globals: { self: 'readonly', caches: 'readonly', fetch: 'readonly', Response: 'readonly', URL: 'readonly' } },
  },
  {
    // The browser app: DOM globals.
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        localStorage: 'readonly',
        sessionStorage: 'readonly',
        location: 'readonly',
        history: 'readonly',
        self: 'readonly',
        caches: 'readonly',
        indexedDB: 'readonly',
        RTCPeerConnection: 'readonly',
        MediaStream: 'readonly',
        EventSource: 'readonly',
        WebSocket: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLVideoElement: 'readonly',
        File: 'readonly',
        FileReader: 'readonly',
        alert: 'readonly',
        confirm: 'readonly',
        requestAnimationFrame: 'readonly',
      },
    },
  },
);
