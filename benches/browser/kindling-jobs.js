// The kindling side: the wasm package's `benchmark(job, { device, runs })` export, built into
// www/pkg/ by `./build.sh build` (served at /pkg/), run on each device.
import { DEVICES, KINDLING_JOBS } from './names.js';
import { errorText } from './util.js';

/** The `benchmark` function, or throws why it cannot be had (no build, an older build). */
async function load() {
  const pkg = await import('/pkg/kindling.js');
  // Checked before init() so an old build does not cost the 40 MB wasm download for nothing.
  if (typeof pkg.benchmark !== 'function') {
    throw new Error('/pkg/kindling.js has no `benchmark` export (an older build: run ./build.sh build)');
  }
  await pkg.default();
  return pkg.benchmark;
}

/**
 * Runs `jobs` on each of `devices`; `runsFor(job)` is the number of timed runs after the first.
 * Calls `starting({ job, device })` before and `report(result)` after each job (a failing job
 * reports its error), and `timed()` when a job's timed runs begin. Resolves to
 * `{ available, error? }`.
 */
export async function runKindling({ jobs, devices, runsFor, starting, report, timed }) {
  if (devices.includes('threads')) await runThreaded({ jobs, runsFor, starting, report });
  devices = devices.filter((d) => d !== 'threads');
  if (!devices.length) return { available: true };
  let benchmark;
  try {
    benchmark = await load();
  } catch (e) {
    return { available: false, error: `kindling not available: ${errorText(e)}` };
  }
  for (const job of KINDLING_JOBS.filter((j) => jobs.includes(j))) {
    for (const device of DEVICES.filter((d) => devices.includes(d))) {
      starting({ job, device });
      try {
        // `device` in the answer is what kindling opened; keep what was asked for beside it.
        report({ ...(await benchmark(job, { device, runs: runsFor(job) }, timed)), requested: device });
      } catch (e) {
        report({ job, device, requested: device, error: errorText(e) });
      }
    }
  }
  return { available: true };
}

/**
 * The threaded build's CPU device with 1 thread and with one per core, each in its own worker
 * (threads-worker.js): results carry `threads`, and `device` says how many.
 */
async function runThreaded({ jobs, runsFor, starting, report }) {
  const counts = [...new Set([1, navigator.hardwareConcurrency || 1])];
  const workers = new Map(counts.map((n) => [n, new Worker('/bench/threads-worker.js', { type: 'module' })]));
  const call = (threads, job, runs) => new Promise((resolve, reject) => {
    const worker = workers.get(threads);
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data.result));
    worker.onerror = (e) => reject(new Error(e.message || 'the benchmark worker failed'));
    worker.postMessage({ threads, job, runs });
  });
  try {
    for (const job of KINDLING_JOBS.filter((j) => jobs.includes(j))) {
      for (const threads of counts) {
        const device = threads === 1 ? 'cpu 1 thread' : `cpu ${threads} threads`;
        starting({ job, device });
        try {
          report({ ...(await call(threads, job, runsFor(job))), device, requested: 'threads', threads });
        } catch (e) {
          report({ job, device, requested: 'threads', threads, error: errorText(e) });
        }
      }
    }
  } finally {
    workers.forEach((w) => w.terminate());
  }
}
