import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Writes .br and .gz next to each text asset, so the server sends them compressed at no CPU cost. */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'cauyte-precompress',
    apply: 'build',
    configResolved(c) {
      outDir = join(c.root, c.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
      for (const file of walk(outDir).filter((f) => /\.(js|css|html|svg|webmanifest|json)$/.test(f))) {
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

// The web app: Preact (3 kB) for a small bundle on slow links; built into web/dist and served by the API server.
export default defineConfig({
  root: 'web',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2020' },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [precompress()],
  server: { proxy: { '/fhir': 'http://127.0.0.1:3000', '/api': 'http://127.0.0.1:3000' } },
});
