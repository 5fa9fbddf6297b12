import { defineConfig } from 'vite';

// The web app: Preact (3 kB) for a small bundle on slow links; built into web/dist and served by the API server.
export default defineConfig({
  root: 'web',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2020' },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { proxy: { '/fhir': 'http://127.0.0.1:3000', '/api': 'http://127.0.0.1:3000' } },
});
