// The page's driver: reads the options from the query, runs job 6 (raw WebGPU peak), the TF.js
// jobs on each backend, then kindling's jobs on each device, logging one line per result.
// Progress: after every change the whole results object goes to `window.benchReport` when the
// runner has installed it (so a crash loses only the job in flight); `window.benchDone`
// resolves to the same object at the end.
import { adapterInfo, runPeak } from './peak.js';
import { runTfjs } from './tfjs-jobs.js';
import { runKindling } from './kindling-jobs.js';
import { runTransformers } from './transformers-jobs.js';
import { flopCounts } from './mobilenet.js';
import { JOBS, BACKENDS, DEVICES, PEERS } from './names.js';
import { errorText } from './util.js';
import { installGpuCounters, gpuSnapshot, gpuWork } from './gpu-counters.js';

/**
 * `?jobs= &backends= &devices= &peers=` (comma lists, `none` for an empty one; default: all),
 * `?runs=` repeats of the head job (default 3), `?steps=` timed batches or steps after the
 * warm-up (default 5, quick 2), `?quick=1` (head on 200 examples × 2 epochs).
 */
function options() {
  const q = new URLSearchParams(location.search);
  const list = (key, all) => {
    if (!q.get(key)) return all;
    if (q.get(key) === 'none') return [];
    const names = q.get(key).split(',').map((s) => s.trim());
    const unknown = names.filter((n) => !all.includes(n));
    if (unknown.length) throw new Error(`?${key}= names ${unknown.join(', ')}; known: ${all.join(', ')}`);
    return names;
  };
  const count = (key, fallback) => {
    const n = Number(q.get(key) ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`?${key}= must be a whole number ≥ 1, got ${q.get(key)}`);
    return n;
  };
  const quick = q.get('quick') === '1';
  return {
    quick,
    jobs: list('jobs', JOBS),
    backends: list('backends', BACKENDS),
    devices: list('devices', DEVICES),
    peers: list('peers', PEERS),
    runs: count('runs', 3),
    steps: count('steps', quick ? 2 : 5),
    examples: quick ? 200 : 2000,
    epochs: quick ? 2 : 10,
  };
}

const out = document.getElementById('out');
function log(line) {
  out.textContent += `${line}\n`;
  console.log(`[bench] ${line}`);
}

/**
 * The units a WebGPU result's work is divided by. When the job marked where its timed runs began
 * (`timed`), the work counted from there over the steps or batches it says it timed
 * (`timed_steps`): kindling's head, epochs 2–10 (the validation pass it runs per epoch counted in
 * with the steps); the others, the timed batches or steps after the warm-up. Otherwise (TF.js's
 * head: each run is timed whole) the whole job: every epoch of every run, ⌈examples / 64⌉ steps
 * each, setup included.
 */
function gpuUnits(r, opts, marked) {
  if (marked && r.timed_steps > 0) {
    if (r.job !== 'head') return { steps: r.timed_steps, counted: 'timed steps' };
    return { steps: r.timed_steps, epochs: r.runs_ms.length, counted: 'timed epochs' };
  }
  if (r.job === 'head') {
    const epochs = r.epochs ? r.runs_ms.length * r.epochs : 1 + r.runs_ms.length;
    return { epochs, steps: epochs * Math.ceil(opts.examples / 64), counted: 'whole job' };
  }
  return { steps: 1 + (r.runs_ms?.length ?? 0), counted: 'whole job' };
}

const onWebgpu = (r) => r.backend === 'webgpu' || r.device === 'webgpu';

function describeGpu(side, r) {
  const g = r.gpu;
  return `${side} webgpu ${r.job}: ${g.dispatches_per_step.toFixed(1)} dispatches/step, `
    + `${g.submits_per_step.toFixed(1)} submits/step, ${g.buffers_per_step.toFixed(1)} buffers created/step, `
    + `${g.readbacks_per_unit.toFixed(1)} read-backs (${(g.read_bytes_per_unit / 1e3).toFixed(1)} KB)/${g.unit}, `
    + `${(g.upload_bytes_per_step / 1e3).toFixed(1)} KB uploaded/step (${g.counted})`;
}

function describe(side, r) {
  const who = `${side} ${r.backend ?? r.requested} ${r.job}`;
  if (r.error) return `${who}: ERROR ${r.error}`;
  const first = r.first_ms === undefined ? '' : ` (first ${r.first_ms.toFixed(0)} ms)`;
  return `${who}: ${r.value.toPrecision(4)} ${r.unit}${first}`;
}

async function main() {
  const results = { tfjs: [], peers: [], kindling: { available: true, results: [] } };
  const publish = () => window.benchReport?.(results);
  // Each side: what is running now (for a crash report), then each result as it arrives.
  // WebGPU work is counted from where each job's timed runs begin (`timed`), or from its start
  // when it marks none, to its report.
  const counting = installGpuCounters();
  let before = gpuSnapshot();
  let marked = false;
  const side = (name, list) => ({
    starting: (running) => {
      results.running = { side: name, ...running };
      before = gpuSnapshot();
      marked = false;
      publish();
    },
    timed: () => { before = gpuSnapshot(); marked = true; },
    report: (r) => {
      if (counting && !r.error && onWebgpu(r) && r.runs_ms) r.gpu = gpuWork(before, gpuSnapshot(), gpuUnits(r, opts, marked));
      list.push(r);
      delete results.running;
      publish();
      log(describe(name, r));
      if (r.gpu) log(describeGpu(name, r));
    },
  });

  const opts = options();
  Object.assign(results, {
    options: opts,
    page: { userAgent: navigator.userAgent, crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency },
    flops: flopCounts(16),
  });
  log(`options ${JSON.stringify(opts)}`);
  try {
    results.adapter = await adapterInfo();
  } catch (e) {
    results.adapter = { error: errorText(e) };
  }
  log(`adapter ${JSON.stringify(results.adapter)}`);
  publish();

  if (opts.jobs.includes('peak')) {
    results.running = { side: 'raw', job: 'peak', backend: 'raw-webgpu' };
    publish();
    try {
      results.peak = await runPeak({ samples: opts.steps });
    } catch (e) {
      results.peak = { job: 'peak', backend: 'raw-webgpu', error: errorText(e) };
    }
    delete results.running;
    publish();
    log(describe('raw', results.peak));
  }
  await runTfjs({ jobs: opts.jobs, backends: opts.backends, sizes: opts, ...side('tfjs', results.tfjs) });
  if (opts.peers.includes('transformers') && opts.jobs.includes('embed')) {
    await runTransformers({ steps: opts.steps, ...side('peer', results.peers) });
  }
  if (opts.devices.length) {
    const { available, error } = await runKindling({
      jobs: opts.jobs,
      devices: opts.devices,
      // Timed runs after the first: whole runs for head (kindling ignores it: one 10-epoch run),
      // batches or steps for the others.
      runsFor: (job) => (job === 'head' ? opts.runs : opts.steps),
      ...side('kindling', results.kindling.results),
    });
    Object.assign(results.kindling, { available, error });
    publish();
    if (!available) log(error);
  }
  return results;
}

window.benchDone = main();
window.benchDone.then(
  () => log('done'),
  (e) => log(`FAILED: ${errorText(e)}`),
);
