// Runs kindling's `benchmark(job, { device: 'cpu' })` on the threaded build (www/pkg-threads/,
// served at /pkg-threads/) with a pool of `threads` Web Workers, for the bench page's `threads`
// unit. A pool's size is fixed once started, so the page keeps one of these workers per count.
let loaded = null;

self.onmessage = async ({ data: { threads, job, runs } }) => {
  try {
    loaded ??= (async () => {
      const pkg = await import('/pkg-threads/kindling.js');
      await pkg.default();
      await pkg.initThreadPool(threads);
      return pkg;
    })();
    const pkg = await loaded;
    self.postMessage({ result: await pkg.benchmark(job, { device: 'cpu', runs }) });
  } catch (e) {
    self.postMessage({ error: e?.message ?? String(e) });
  }
};
