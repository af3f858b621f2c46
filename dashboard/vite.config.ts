/** Vite build of the dashboard: `npm run build:ui` writes dist/dashboard/, which the API server serves at `/`. */
import { defineConfig } from 'vite';

/** This directory, without Node imports (the file is also typechecked with the browser's lib). */
const here = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root: here,
  base: '/',
  // No public/ dir: every file is content-hashed under assets/ (the server serves nothing else).
  publicDir: false,
  build: {
    outDir: `${here}../dist/dashboard`,
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Mermaid's diagram chunks are big by nature; they load only on pages that draw diagrams.
    chunkSizeWarningLimit: 3000,
    // Nothing is inlined as a data: URL, so assets keep real names and content types.
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite dashboard` for UI work against a running server on :8080.
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
