// The TF.js side: jobs 1–3 on each TF.js backend in turn. `tf` is the global defined by the
// classic <script> tags in index.html (tfjs 4.22 union bundle + the webgpu and wasm backends).
import { featureModel, finetuneTail, IMAGE, FINETUNE_CLASSES } from './mobilenet.js';
import { BACKENDS, TFJS_JOBS } from './names.js';
import { median, errorText } from './util.js';

// The wasm backend fetches its .wasm files from here (served by run.mjs), not from a CDN.
tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

const BATCH = 16;

/**
 * Switches TF.js to `name`. tf.setBackend only logs why a backend failed to initialise and
 * resolves to false, so its console warnings are collected to give the reason.
 */
async function useBackend(name) {
  const logged = [];
  const warn = console.warn;
  console.warn = (...args) => { logged.push(args.map(errorText).join(' ')); warn(...args); };
  try {
    if (!(await tf.setBackend(name))) {
      throw new Error(logged.join(' | ') || `tf.setBackend('${name}') resolved to false`);
    }
  } finally {
    console.warn = warn;
  }
  await tf.ready();
}

/** What the backend runs with, for the report (flags TF.js picked on this browser). */
function backendDetails(name) {
  const env = tf.env();
  if (name === 'webgl') return { webgl_version: env.getNumber('WEBGL_VERSION') };
  if (name === 'wasm') {
    // Threads need cross-origin isolation (tests/serve.mjs sends the headers); XNNPACK then uses one per core.
    const threads = env.getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? tf.wasm.getThreadsCount() : 1;
    return { simd: env.getBool('WASM_HAS_SIMD_SUPPORT'), threads };
  }
  return {};
}

const oneHot = (n, classes) => tf.tidy(() => tf.oneHot(tf.randomUniform([n], 0, classes, 'int32'), classes));

/**
 * Job 1: head training on cached features: MLP 1280→256(relu)→10, softmax cross-entropy, Adam
 * 1e-3, batch 64, shuffled. Each run trains a fresh model; the value is the median run.
 */
async function head({ examples, epochs, runs }) {
  const x = tf.randomNormal([examples, 1280]);
  const y = oneHot(examples, 10);
  const seconds = [];
  try {
    for (let r = 0; r < runs; r++) {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [1280], units: 256, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
      const t0 = performance.now();
      await model.fit(x, y, { batchSize: 64, epochs, shuffle: true, verbose: 0 });
      // fit resolves on the last loss; reading the last-updated weight also waits for the
      // final optimiser step still queued on GPU backends.
      const weights = model.getWeights();
      await weights[weights.length - 1].data();
      seconds.push((performance.now() - t0) / 1e3);
      model.dispose();
    }
  } finally {
    tf.dispose([x, y]);
  }
  const s = median(seconds);
  return {
    value: (examples * epochs) / s, unit: 'examples/s', seconds: s,
    runs_ms: seconds.map((v) => v * 1e3), examples, epochs,
  };
}

/**
 * Times `step` (which must end in a read-back) once to warm up, then `steps` times; `timed()` is
 * called between the two, so the page counts the GPU work of the timed steps alone.
 */
async function timeSteps(step, steps, timed) {
  const t0 = performance.now();
  await step();
  const first_ms = performance.now() - t0;
  timed();
  const runs_ms = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await step();
    runs_ms.push(performance.now() - t);
  }
  return { first_ms, runs_ms, ms: median(runs_ms), timed_steps: steps };
}

/** Job 2: MobileNetV2 inference, batch 16 at 224×224, including the read-back of the features. */
async function features({ steps }, timed) {
  const model = featureModel();
  const x = tf.randomUniform([BATCH, IMAGE, IMAGE, 3]);
  try {
    const t = await timeSteps(async () => {
      const out = model.predict(x);
      await out.data();
      out.dispose();
    }, steps, timed);
    return { value: (BATCH * 1e3) / t.ms, unit: 'images/s', first_ms: t.first_ms, runs_ms: t.runs_ms, timed_steps: t.timed_steps };
  } finally {
    x.dispose();
    model.dispose();
  }
}

/**
 * Job 3: one Adam step of the trainable tail (last inverted-residual blocks, final 1×1 conv,
 * pooling, dense head) on cached activations of the frozen prefix. Random activations stand in
 * for the cache: the step's cost does not depend on their values. BatchNorm runs in inference
 * mode (`training: false`) with its scale and shift trained, as kindling does.
 */
async function finetune({ steps }, timed) {
  const { model, inputShape } = finetuneTail();
  const cached = tf.randomNormal([BATCH, ...inputShape]);
  const labels = oneHot(BATCH, FINETUNE_CLASSES);
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read());
  try {
    const t = await timeSteps(async () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(cached, { training: false })), true, vars);
      await loss.data();
      loss.dispose();
    }, steps, timed);
    return {
      value: 1e3 / t.ms, unit: 'steps/s', ms_per_step: t.ms, first_ms: t.first_ms, runs_ms: t.runs_ms,
      timed_steps: t.timed_steps,
      trainable_params: vars.reduce((n, v) => n + v.size, 0),
    };
  } finally {
    tf.dispose([cached, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Job 8: one of the head's two large matrix products alone, as kindling's `bench::head_product`
 * times it: 8 products `[64 × 1280] · [1280 × 256]` (or, `transposed`, the weight gradient's
 * `xᵀ · dh`: `[1280 × 64] · [64 × 256]`, transposeA in the kernel) summed, one read-back; GFLOP/s.
 */
async function product(transposed, { steps }, timed) {
  const x = tf.randomNormal([64, 1280]);
  const rhs = tf.randomNormal(transposed ? [64, 256] : [1280, 256]);
  try {
    const t = await timeSteps(async () => {
      const total = tf.tidy(() => {
        let sum = tf.matMul(x, rhs, transposed, false);
        for (let i = 1; i < PRODUCTS; i++) sum = sum.add(tf.matMul(x, rhs, transposed, false));
        return sum.sum();
      });
      await total.data();
      total.dispose();
    }, steps, timed);
    return {
      value: (2 * 64 * 1280 * 256 * PRODUCTS) / (t.ms / 1e3) / 1e9, unit: 'GFLOP/s',
      first_ms: t.first_ms, runs_ms: t.runs_ms, timed_steps: t.timed_steps,
    };
  } finally {
    tf.dispose([x, rhs]);
  }
}
const PRODUCTS = 8;

const RUN = {
  head, features, finetune, product_nn: (o, timed) => product(false, o, timed), product_tn: (o, timed) => product(true, o, timed),
};

/**
 * Runs `jobs` on each of `backends`, calling `starting({ job, backend })` before and
 * `report(result)` after each job, and `timed()` when a job's timed steps begin (the head job
 * has none apart: each of its runs is timed whole). A backend that cannot start yields one
 * `unavailable` result; a failing job yields its error.
 */
export async function runTfjs({ jobs, backends, sizes, starting, report, timed }) {
  for (const backend of BACKENDS.filter((b) => backends.includes(b))) {
    starting({ job: 'init', backend });
    try {
      await useBackend(backend);
    } catch (e) {
      report({ job: 'init', backend, unavailable: true, error: `backend unavailable: ${errorText(e)}` });
      continue;
    }
    const details = backendDetails(backend);
    for (const job of TFJS_JOBS.filter((j) => jobs.includes(j))) {
      starting({ job, backend });
      try {
        report({ job, backend, ...details, ...(await RUN[job](sizes, timed)) });
      } catch (e) {
        report({ job, backend, error: errorText(e) });
      }
    }
    // Frees this backend's GPU memory and contexts before the next one (and before kindling).
    if (backend !== 'cpu') tf.removeBackend(backend);
  }
}
