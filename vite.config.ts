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

/**
 * Puts the first screen's stylesheet into index.html (a <style> at the end of <head>; the CSP allows
 * inline styles): on a weak link a render-blocking stylesheet is one more request, often on a
 * connection of its own (docs/weak-links.md). The .css file stays in dist; nothing else links it.
 */
function inlineEntryCss(): Plugin {
  return {
    name: 'cauyte-inline-entry-css',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        // At the end of <head>: the scripts and the preload above it go out with the HTML's first packets.
        let styles = '';
        const rest = html.replace(/\s*<link rel="stylesheet"[^>]*? href="\/(assets\/[^"]+\.css)"[^>]*>/g, (tag, file: string) => {
          const asset = ctx.bundle?.[file];
          const css = asset?.type === 'asset' ? String(asset.source).trim() : '';
          if (!css || css.includes('</')) return tag;
          styles += `<style>${css}</style>`;
          return '';
        });
        return rest.replace('</head>', `${styles}\n  </head>`);
      },
    },
  };
}

// The web app: Preact (3 kB) for a small bundle on slow links; built into web/dist and served by the API server.
export default defineConfig({
  root: 'web',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // web/dist/.vite/manifest.json: which files a lazy page needs, for the server's preload hints
    // (src/http/web.ts: a study page opened directly names its page code and preview with its first image).
    manifest: true,
    target: 'es2020',
    // The first screen in ONE script: the entry (main.tsx: shell, sign-in, landing pages) with what every
    // page needs (Preact, signals, labels, the session), which the lazy pages import from it. On a weak
    // link each extra file on the first screen costs a request, often a connection of its own and a
    // slow start into a small queue (docs/weak-links.md "The first screen on a weak link"):
    // - the `app` group holds main.tsx and, through it, everything it imports statically;
    // - preserveEntrySignatures: false lets that group be the entry itself (no 0.7 kB facade file);
    // - setPublicClassFields: class fields as plain assignments, so the first screen needs no helper
    //   from the Rolldown runtime chunk (only lazy pages with CommonJS libraries still import it);
    // - no modulepreload polyfill: it would be a file of its own in front of the app (Chromium, Firefox
    //   115+ and Safari 17+ preload natively; older Safari fetches a lazy page's imports when it runs).
    modulePreload: { polyfill: false },
    rolldownOptions: {
      preserveEntrySignatures: false,
      transform: { assumptions: { setPublicClassFields: true } },
      output: {
        codeSplitting: {
          groups: [
            {
              name: 'app',
              test: /web[\\/]src[\\/](main|i18n|session|api|router|lazy)\.tsx?$|node_modules[\\/](preact|@preact)[\\/]/,
              priority: 10,
            },
          ],
        },
      },
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [inlineEntryCss(), precompress()],
  server: { proxy: { '/fhir': 'http://127.0.0.1:3000', '/api': 'http://127.0.0.1:3000' } },
});
