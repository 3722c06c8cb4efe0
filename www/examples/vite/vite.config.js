// The Vite configuration an app that uses kindling needs (no plugin).
const isolated = {
  // Shared memory for kindling's threaded CPU build needs a cross-origin isolated page; without
  // these headers the worker runs one thread and says why (README, Threads).
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default {
  // kindling's worker loads one of its two wasm builds with a dynamic import: ES-module workers.
  worker: { format: 'es' },
  // Served as it is in the dev server: pre-bundling would move worker.js away from its .wasm files.
  optimizeDeps: { exclude: ['kindling'] },
  server: { headers: isolated },
  preview: { headers: isolated },
};
