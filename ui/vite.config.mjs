import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// Built into dist/ui by `npm run build`; served by the library at <http.path>/ui/.
// Relative URLs ('./assets/...') keep the page working under any path and behind a proxy's sub-path.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // JSX through Vite's own transform (no React plugin): the automatic runtime, as React 19 expects.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One app, one chunk: no split loading to go wrong behind a proxy.
    chunkSizeWarningLimit: 1000,
    reportCompressedSize: true,
    rolldownOptions: {
      // '"use client"' directives in React libraries mean nothing in a plain client bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
