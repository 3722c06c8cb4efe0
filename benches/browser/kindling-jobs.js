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
 * reports its error). Resolves to `{ available, error? }`.
 */
export async function runKindling({ jobs, devices, runsFor, starting, report }) {
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
        report({ ...(await benchmark(job, { device, runs: runsFor(job) })), requested: device });
      } catch (e) {
        report({ job, device, requested: device, error: errorText(e) });
      }
    }
  }
  return { available: true };
}
