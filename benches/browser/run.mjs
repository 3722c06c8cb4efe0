// Runs the side-by-side benchmark page in headless Chromium and prints one table.
//
//   node benches/browser/run.mjs     (after ./build.sh build; the kindling column says n/a
//                                     until www/pkg/kindling.js exports `benchmark`)
//
// Each side's backend or device runs in its own fresh browser (the raw WebGPU peak too): no
// leftovers from the one before, a cold start for the first-step latency, and a crash or a hang
// costs only that part. Environment:
//   BENCH_JOBS      comma list of head, features, finetune, embed, peak, product_nn, product_tn, or
//                   numbers 1–6 and 8 (default all)
//   BENCH_BACKENDS  TF.js backends (default webgpu,webgl,wasm,cpu; `none` for kindling only)
//   BENCH_PEERS     other peers (default transformers: transformers.js on job 4; `none`)
//   MINILM_ONNX_DIR the peer's model folder (default ~/.cache/kindling/weights/minilm-onnx)
//   BENCH_DEVICES   kindling devices (default webgpu,cpu,threads; `none` for TF.js only);
//                   `threads`: the threaded build in workers, 1 thread and one per core
//   BENCH_QUICK=1   smoke run: TF.js head on 200 examples × 2 epochs, 2 timed batches
//   BENCH_RUNS      repeats of the head job (default 3)
//   BENCH_STEPS     timed batches/steps after the warm-up (features, finetune, embed; default 5)
//   BENCH_JSON      also write every result there
//   KINDLING_NATIVE_JSON  native figures ({ "embed": sentences/s, … }) for job 4's ratio
//   BENCH_TIMEOUT_MIN     per browser (default 60: kindling's webgpu unit takes 30–50 min on
//                         SwiftShader); CHROMIUM (/usr/bin/chromium)
import os from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../tests/serve.mjs';
import { table, notes, threadLines } from './report.mjs';
import { JOBS, BACKENDS, DEVICES, PEERS, TFJS_JOBS, KINDLING_JOBS } from './names.js';

const env = process.env;
const HERE = fileURLToPath(new URL('.', import.meta.url));
// Job 5 (first-step latency) is read from jobs 2 and 3.
const NUMBERED = { 1: ['head'], 2: ['features'], 3: ['finetune'], 4: ['embed'], 5: ['features', 'finetune'], 6: ['peak'],
  8: ['product_nn', 'product_tn'] };

/** A comma list from the environment, checked against `all`; every name when unset, none for `none`. */
function list(name, all, expand = (s) => [s]) {
  if (!env[name]) return all;
  if (env[name] === 'none') return [];
  const names = env[name].split(',').map((s) => s.trim()).filter(Boolean).flatMap(expand);
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`${name} names ${unknown.join(', ')}; known: ${all.join(', ')}`);
  return all.filter((n) => names.includes(n));
}

/** The jobs, backends and devices asked for, and one unit (browser) per peak, backend, device. */
function plan() {
  const jobs = list('BENCH_JOBS', JOBS, (j) => NUMBERED[j] ?? [j]);
  const backends = list('BENCH_BACKENDS', BACKENDS);
  const devices = list('BENCH_DEVICES', DEVICES);
  const peers = list('BENCH_PEERS', PEERS);
  const tfjsJobs = TFJS_JOBS.filter((j) => jobs.includes(j)).join(',');
  const kindlingJobs = KINDLING_JOBS.filter((j) => jobs.includes(j)).join(',');
  const common = new URLSearchParams();
  if (env.BENCH_RUNS) common.set('runs', env.BENCH_RUNS);
  if (env.BENCH_STEPS) common.set('steps', env.BENCH_STEPS);
  if (env.BENCH_QUICK === '1') common.set('quick', '1');
  const unit = (name, q) => ({ name, query: new URLSearchParams({ ...q, ...Object.fromEntries(common) }) });
  const units = [
    ...(jobs.includes('peak') ? [unit('raw WebGPU peak', { jobs: 'peak', backends: 'none', devices: 'none', peers: 'none' })] : []),
    ...(tfjsJobs ? backends.map((b) => unit(`tfjs ${b}`, { jobs: tfjsJobs, backends: b, devices: 'none', peers: 'none' })) : []),
    ...(jobs.includes('embed') ? peers.map((p) => unit(`${p}.js`, { jobs: 'embed', backends: 'none', devices: 'none', peers: p })) : []),
    ...(kindlingJobs ? devices.map((d) => unit(`kindling ${d}`, { jobs: kindlingJobs, backends: 'none', devices: d, peers: 'none' })) : []),
  ];
  return { asked: { jobs, backends, devices, peers }, units };
}

function withTimeout(promise, minutes, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${minutes} min`)), minutes * 60_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one unit's page; resolves to its last published results and, if it died, why. */
async function runUnit(origin, unit) {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan',
      '--disable-dev-shm-usage', '--ignore-gpu-blocklist'],
  });
  const version = browser.version();
  let last;
  try {
    const page = await browser.newPage();
    await page.exposeFunction('benchReport', (snapshot) => { last = snapshot; });
    // The page logs one `[bench]` line per result: progress on stderr, the table on stdout.
    page.on('console', (m) => { if (m.text().startsWith('[bench] ')) console.error(m.text().slice(8)); });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const url = `${origin}/bench/index.html?${unit.query}`;
    console.error(`== ${unit.name}: ${url}`);
    await page.goto(url);
    await page.waitForFunction(() => window.benchDone !== undefined, null, { timeout: 60_000 });
    last = await withTimeout(page.evaluate(() => window.benchDone), Number(env.BENCH_TIMEOUT_MIN ?? 60), unit.name);
    return { unit, version, results: last };
  } catch (e) {
    return { unit, version, results: last, failure: e.message.split('\n')[0] };
  } finally {
    await browser.close();
  }
}

/** One results object from every unit; a unit that died gets an error for the job it was in. */
function merge(runs) {
  const merged = { tfjs: [], peers: [], kindling: { available: true, results: [] }, failures: [] };
  for (const { unit, version, results: r, failure } of runs) {
    merged.browser ??= `Chromium ${version}`;
    if (!r) {
      merged.failures.push(`${unit.name}: ${failure}`);
      continue;
    }
    merged.options ??= r.options;
    merged.page ??= r.page;
    merged.flops ??= r.flops;
    merged.adapter ??= r.adapter;
    merged.peak ??= r.peak;
    merged.tfjs.push(...r.tfjs);
    merged.peers.push(...(r.peers ?? []));
    merged.kindling.results.push(...r.kindling.results);
    if (!r.kindling.available) Object.assign(merged.kindling, { available: false, error: r.kindling.error });
    if (!failure) continue;
    const run = r.running;
    const error = `the page stopped during this job: ${failure}`;
    if (run?.side === 'tfjs') merged.tfjs.push({ job: run.job, backend: run.backend, unavailable: run.job === 'init', error });
    else if (run?.side === 'kindling') merged.kindling.results.push({ job: run.job, device: run.device, requested: run.device, error });
    else if (run?.side === 'raw') merged.peak = { job: 'peak', error };
    else if (run?.side === 'peer') merged.peers.push({ job: run.job, backend: run.backend, error });
    else merged.failures.push(`${unit.name}: ${failure}`);
  }
  return merged;
}

/** What a page downloads to use each side: raw bytes and gzip -9. */
async function downloadSizes() {
  const tfjs = (...files) => files.map((f) => `node_modules/@tensorflow/${f}`);
  const core = 'tfjs/dist/tf.min.js';
  const sets = {
    kindling: ['../../www/pkg/kindling.js', '../../www/pkg/kindling_bg.wasm'],
    webgpu: tfjs(core, 'tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js'),
    webgl: tfjs(core),
    wasm: tfjs(core, 'tfjs-backend-wasm/dist/tf-backend-wasm.min.js', 'tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
    cpu: tfjs(core),
  };
  const sizes = {};
  for (const [name, files] of Object.entries(sets)) {
    try {
      const bodies = await Promise.all(files.map((f) => readFile(`${HERE}${f}`)));
      sizes[name] = {
        files,
        raw: bodies.reduce((n, b) => n + b.length, 0),
        gzip: bodies.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0),
      };
    } catch (e) {
      console.error(`size of ${name}: ${e.message}`);
    }
  }
  return sizes;
}

async function main() {
  const { asked, units } = plan();
  // The kindling page's www/ at `/` (so `/pkg/kindling.js` is the owner's build), this folder at
  // `/bench/`, and its npm packages at `/node_modules/` (TF.js is loaded from there: no CDN).
  // Cross-origin isolation (the server's default) lets TF.js's wasm backend use its threaded SIMD build.
  // The text peer's model (an f32 ONNX export of kindling's MiniLM weights, written by
  // `./build.sh bench`) at /models/minilm/, and the reference embeddings it is checked against.
  const minilmOnnx = env.MINILM_ONNX_DIR ?? `${os.homedir()}/.cache/kindling/weights/minilm-onnx`;
  const server = await serve(`${HERE}../../www`, { routes: { '/bench/': HERE, '/node_modules/': `${HERE}node_modules`,
    '/models/minilm/': minilmOnnx, '/fixtures/': `${HERE}../../tests/fixtures` } });
  const runs = [];
  try {
    for (const unit of units) runs.push(await runUnit(server.origin, unit));
  } finally {
    server.close();
  }
  const results = merge(runs);
  if (!results.options) throw new Error(`no page reported anything:\n${results.failures.join('\n')}`);
  // Each page saw only its own unit's lists.
  Object.assign(results.options, asked);
  const sizes = await downloadSizes();
  const native = env.KINDLING_NATIVE_JSON ? JSON.parse(await readFile(env.KINDLING_NATIVE_JSON, 'utf8')) : undefined;
  const a = results.adapter;
  const meta = {
    date: new Date().toISOString(),
    browser: results.browser,
    cpus: os.cpus().length,
    adapter: a.error ? `none (${a.error})` : [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / '),
    cross_origin_isolated: results.page.crossOriginIsolated,
  };
  const o = results.options;
  console.log(`kindling vs TF.js 4.22 — ${meta.date}, ${meta.browser}, ${meta.cpus} CPUs, adapter: ${meta.adapter}`);
  console.log(`head: median of ${o.runs} runs; others: median of ${o.steps} timed batches after 1 warm-up${o.quick
    ? '; QUICK: TF.js head is 200 examples x 2 epochs, kindling head is always 2000 x 10' : ''}`);
  console.log(table({ results, sizes, native }));
  const threads = threadLines(results);
  if (threads.length) console.log(`\n${threads.join('\n')}`);
  const why = notes(results);
  if (why.length) console.log(`\n${why.join('\n')}`);
  if (env.BENCH_JSON) await writeFile(env.BENCH_JSON, JSON.stringify({ meta, results, sizes, native }, null, 2));
}

try {
  await main();
} catch (e) {
  console.error(`benchmark failed: ${e.message}`);
  process.exitCode = 1;
}
