// Turns the merged results into the one side-by-side table run.mjs prints. Job lines end with
// kindling ÷ the fastest TF.js backend (> 1: kindling faster), `n/a` when a side is missing.
import { BACKENDS } from './names.js';

const UNITS = { 'examples/s': 'ex/s', 'images/s': 'img/s', 'steps/s': 'steps/s', 'sentences/s': 'sent/s', 'GFLOP/s': 'GFLOP/s' };
const W = { label: 40, kindling: 26, tfjs: 17 };

function num(v) {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v >= 10 ? v.toFixed(1) : v.toPrecision(3);
}
const ratio = (a, b) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

function line(label, kindling, tfjsCells, tail) {
  return label.padEnd(W.label) + kindling.padEnd(W.kindling)
    + tfjsCells.map((c) => c.padEnd(W.tfjs)).join('') + tail;
}

/** Successful results of one side for `job`. */
const ok = (list, job) => list.filter((r) => r.job === job && !r.error);

function best(list, job, better = (a, b) => a.value > b.value) {
  return ok(list, job).reduce((b, r) => (!b || better(r, b) ? r : b), undefined);
}

/** One TF.js cell: the figure, or why there is none (details in the notes). */
function tfjsCell(results, backend, job, show) {
  if (results.some((r) => r.backend === backend && r.unavailable)) return 'unavailable';
  const r = results.find((x) => x.backend === backend && x.job === job);
  if (!r) return '-';
  return r.error ? 'error' : show(r);
}

function throughputRow(label, job, k, t) {
  const kb = best(k, job);
  const tb = best(t, job);
  const show = (r) => `${num(r.value)} ${UNITS[r.unit] ?? r.unit}`;
  return line(label, kb ? `${show(kb)} (${kb.device})` : 'n/a',
    BACKENDS.map((b) => tfjsCell(t, b, job, show)), `vs best tfjs: ${ratio(kb?.value, tb?.value)}`);
}

/** First-batch latency: lower is better, so the ratio is TF.js ÷ kindling (> 1: kindling faster). */
function latencyRow(label, job, k, t) {
  const lower = (a, b) => a.first_ms < b.first_ms;
  const kb = best(k, job, lower);
  const tb = best(t, job, lower);
  const show = (r) => `${num(r.first_ms)} ms`;
  // Work kindling timed apart because TF.js's side of the job does not do it (the fine-tune
  // job's cache of the frozen prefix; TF.js starts from random activations).
  const setup = kb?.setup_ms === undefined ? '' : `; kindling's cache before it: ${num(kb.setup_ms)} ms`;
  return line(label, kb ? `${show(kb)} (${kb.device})` : 'n/a',
    BACKENDS.map((b) => tfjsCell(t, b, job, show)), `vs best tfjs: ${ratio(tb?.first_ms, kb?.first_ms)}${setup}`);
}

/** Achieved GFLOP/s, with the % of the raw WebGPU peak for work that ran on the GPU. */
function flopsRow(label, job, flopsPerItem, k, t, peak) {
  const gflops = (r) => (r.value * flopsPerItem(r)) / 1e9;
  const show = (r) => {
    const onGpu = r.backend === 'webgpu' || r.backend === 'webgl' || r.device === 'webgpu';
    const pct = onGpu && peak ? ` (${((100 * gflops(r)) / peak).toFixed(0)}%)` : '';
    return `${num(gflops(r))}${pct}`;
  };
  const kw = ok(k, job).find((r) => r.device === 'webgpu');
  const tw = ok(t, job).find((r) => r.backend === 'webgpu');
  return line(label, kw ? `${show(kw)} (webgpu)` : 'n/a',
    BACKENDS.map((b) => tfjsCell(t, b, job, show)),
    `vs tfjs webgpu: ${ratio(kw && gflops(kw), tw && gflops(tw))}`);
}

/**
 * Job 7's rows for `job`: what the WebGPU job asked of the GPU on each side per step
 * (gpu-counters.js; over the timed steps where the job marks them, else the whole job with its
 * setup — the label says which for kindling's side) — dispatches per step, then the bytes read
 * back per epoch (head) or per step — ending with the job's throughput ratio to TF.js's WebGPU.
 */
function gpuRows(job, k, t) {
  const kw = ok(k, job).find((r) => r.device === 'webgpu' && r.gpu);
  const tw = ok(t, job).find((r) => r.backend === 'webgpu' && r.gpu);
  if (!kw && !tw) return [];
  const tail = `vs tfjs webgpu: ${ratio(kw?.value, tw?.value)}`;
  const cells = (show) => BACKENDS.map((b) => (b === 'webgpu' ? (tw ? show(tw.gpu) : 'n/a') : '-'));
  const unit = (kw ?? tw).gpu.unit;
  const over = (kw ?? tw).gpu.counted === 'whole job' ? 'job' : 'timed';
  const dispatches = (g) => `${num(g.dispatches_per_step)}`;
  const read = (g) => `${num(g.read_bytes_per_unit / 1e3)} KB`;
  return [
    line(`7 ${job}: dispatches/step (${over})`, kw ? `${dispatches(kw.gpu)} (webgpu)` : 'n/a', cells(dispatches), tail),
    line(`7 ${job}: read back/${unit} (${over})`, kw ? `${read(kw.gpu)} (webgpu)` : 'n/a', cells(read), tail),
  ];
}

/**
 * The table. `results`: the merged page results; `sizes`: per column (kindling and each TF.js
 * backend) the download { raw, gzip }; `native`: the KINDLING_NATIVE_JSON figures, if any.
 */
export function table({ results, sizes, native }) {
  const k = results.kindling.results;
  const t = results.tfjs;
  const f = results.flops;
  const o = results.options;
  const peak = results.peak && !results.peak.error ? results.peak.value : undefined;
  const asked = (job) => o.jobs.includes(job);
  const rows = [line('job', 'kindling best', BACKENDS.map((b) => `tfjs ${b}`), '')];
  if (asked('head')) rows.push(throughputRow(`1 head ${o.examples}x1280->256->10 b64 x${o.epochs}`, 'head', k, t));
  if (asked('features')) rows.push(throughputRow('2 features MobileNetV2 224 b16', 'features', k, t));
  if (asked('finetune')) rows.push(throughputRow('3 finetune last 2 IR+conv+head b16', 'finetune', k, t));
  if (asked('embed')) {
    const kb = best(k, 'embed');
    const nativeEmbed = native?.embed;
    rows.push(line('4 embed MiniLM-L6 seq128 b32', kb ? `${num(kb.value)} sent/s (${kb.device})` : 'n/a',
      BACKENDS.map(() => '-'),
      `browser/native: ${nativeEmbed ? ratio(kb?.value, nativeEmbed) : 'n/a (no KINDLING_NATIVE_JSON)'}`
      + `; vs transformers.js: ${ratio(kb?.value, best(results.peers ?? [], 'embed')?.value)}`));
  }

  if (asked('product_nn')) rows.push(throughputRow('8 head product 64x1280 . 1280x256', 'product_nn', k, t));
  if (asked('product_tn')) rows.push(throughputRow('8 head product (64x1280)T . 64x256', 'product_tn', k, t));

  if (asked('features')) rows.push(latencyRow('5 first batch, features (ms)', 'features', k, t));
  if (asked('finetune')) rows.push(latencyRow('5 first step, finetune (ms)', 'finetune', k, t));
  const size = (s) => (s ? `${mb(s.raw)} / ${mb(s.gzip)}` : 'n/a');
  const smallest = Math.min(...BACKENDS.map((b) => sizes[b]?.gzip ?? Infinity));
  rows.push(line('5 download raw / gzip -9', size(sizes.kindling), BACKENDS.map((b) => size(sizes[b])),
    `tfjs/kindling gzip: ${ratio(smallest, sizes.kindling?.gzip)} (>1: kindling smaller)`));

  if (asked('peak')) {
    rows.push(line('6 peak WGSL matmul f32 GFLOP/s', peak ? num(peak) : 'error',
      BACKENDS.map(() => ''), '(raw WebGPU, the same adapter for both sides)'));
  }
  // kindling may report its own count per item (its trainable set could differ from ours).
  if (asked('features')) {
    rows.push(flopsRow('6 features GFLOP/s (% of peak)', 'features',
      (r) => r.flops_per_item ?? f.features_flops_per_image, k, t, peak));
  }
  if (asked('finetune')) {
    rows.push(flopsRow('6 finetune GFLOP/s (% of peak)', 'finetune',
      (r) => r.flops_per_item ?? f.finetune_flops_per_step, k, t, peak));
  }
  for (const job of ['head', 'features', 'finetune', 'product_nn', 'product_tn']) if (asked(job)) rows.push(...gpuRows(job, k, t));
  return rows.join('\n');
}

/**
 * Issue 15's lines, one per job the threaded build ran (scripts read them):
 * `threads <job>: <N> threads = <r>x one thread; vs best tfjs: <R>x; one-thread build: <b>x`.
 * "one thread" is the threaded build with a pool of one; the last figure compares N threads with
 * the one-thread build the page used before (no atomics).
 */
export function threadLines(results) {
  const k = results.kindling.results;
  const lines = [];
  for (const job of ['head', 'features', 'finetune', 'embed']) {
    const runs = ok(k, job).filter((r) => r.threads);
    const one = runs.find((r) => r.threads === 1);
    const many = runs.filter((r) => r.threads > 1).at(-1);
    if (!one || !many) continue;
    // Job 4's peer is transformers.js (TF.js has no MiniLM job).
    const tb = best(job === 'embed' ? results.peers ?? [] : results.tfjs, job);
    const single = ok(k, job).find((r) => r.requested === 'cpu');
    lines.push(`threads ${job}: ${many.threads} threads = ${ratio(many.value, one.value)} one thread; `
      + `${job === 'embed' ? 'vs transformers.js' : 'vs best tfjs'}: ${ratio(many.value, tb?.value)}`
      + `${tb ? ` (${tb.backend}${tb.dtype ? ` ${tb.dtype}, ${tb.threads} threads` : ''})` : ''}; `
      + `one-thread build: ${ratio(many.value, single?.value)}`);
  }
  return lines;
}

/** Why cells say error / unavailable / n/a: one line per failure. */
export function notes(results) {
  const lines = [...results.failures];
  if (!results.kindling.available) lines.push(results.kindling.error);
  for (const r of results.kindling.results) if (r.error) lines.push(`kindling ${r.requested} ${r.job}: ${r.error}`);
  for (const r of results.tfjs) if (r.error) lines.push(`tfjs ${r.backend} ${r.job}: ${r.error}`);
  for (const r of results.peers ?? []) if (r.error) lines.push(`${r.backend} ${r.job}: ${r.error}`);
  if (results.peak?.error) lines.push(`peak: ${results.peak.error}`);
  return lines;
}
