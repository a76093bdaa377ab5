import { defineConfig } from 'vite';

// Served by the redloop server at /dashboard/ under a strict Content-Security-Policy:
// no inline scripts or styles, so nothing is inlined and no preload polyfill is injected.
export default defineConfig({
  base: '/dashboard/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` against a local `redloop serve --port 18090`.
    proxy: {
      '/v1': { target: 'http://127.0.0.1:18090', ws: true },
    },
  },
});
