// Job 4's peer: transformers.js 3.8 (ONNX Runtime Web's threaded SIMD wasm, one thread per
// core) embedding with all-MiniLM-L6-v2 in f32, served from this machine (no hub, no CDN). No
// registry ships that ONNX file, so `./build.sh bench` writes it from kindling's own pinned
// weights (tools/export_minilm_onnx.py) into a folder run.mjs serves at /models/minilm/. Before
// timing, its embeddings of the reference sentences must match tests/fixtures/minilm_reference.json.
import { median, errorText } from './util.js';

const DIST = '/node_modules/@huggingface/transformers/dist/';
const BATCH = 32;
const SEQ = 128;
const HIDDEN = 384;

/** Lowest cosine between the peer's embeddings of the reference sentences and the reference. */
async function referenceCosine(pipeline) {
  const reference = await (await fetch('/fixtures/minilm_reference.json')).json();
  const extractor = await pipeline('feature-extraction', 'minilm', { dtype: 'fp32', device: 'wasm' });
  const rows = (await extractor(reference.map((c) => c.text), { pooling: 'mean', normalize: true })).tolist();
  let worst = 1;
  reference.forEach(({ embedding }, i) => {
    const dot = embedding.reduce((s, v, j) => s + v * rows[i][j], 0);
    const norm = Math.hypot(...embedding) * Math.hypot(...rows[i]);
    worst = Math.min(worst, dot / norm);
  });
  return { worst, model: extractor.model };
}

/** Mean over the sequence and L2 norm, as kindling's embedding does (all tokens real here). */
function pool(hidden) {
  const out = new Float32Array(BATCH * HIDDEN);
  for (let b = 0; b < BATCH; b++) {
    for (let t = 0; t < SEQ; t++) {
      for (let h = 0; h < HIDDEN; h++) out[b * HIDDEN + h] += hidden[(b * SEQ + t) * HIDDEN + h] / SEQ;
    }
    const row = out.subarray(b * HIDDEN, (b + 1) * HIDDEN);
    const n = Math.hypot(...row);
    row.forEach((v, h) => { row[h] = v / n; });
  }
  return out;
}

/**
 * Job 4 on transformers.js: `steps` timed forward passes after one warm-up, over the shape
 * kindling's job uses (32 sentences of 128 token ids, every token real).
 */
export async function runTransformers({ steps, starting, report }) {
  starting({ job: 'embed', backend: 'transformers.js' });
  try {
    const { env, pipeline, Tensor } = await import(`${DIST}transformers.min.js`);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = '/models/';
    env.backends.onnx.wasm.wasmPaths = DIST;
    // ONNX Runtime's default is half the cores (1 here); kindling uses them all.
    env.backends.onnx.wasm.numThreads = navigator.hardwareConcurrency || 1;
    const { worst, model } = await referenceCosine(pipeline);
    if (!(worst >= 0.9999)) throw new Error(`the exported ONNX model is off the reference embeddings (cosine ${worst})`);
    const ids = BigInt64Array.from({ length: BATCH * SEQ }, (_, i) => BigInt(1000 + ((i * 7919) % 29000)));
    const ones = new BigInt64Array(BATCH * SEQ).fill(1n);
    const zeros = new BigInt64Array(BATCH * SEQ);
    const times = [];
    for (let i = 0; i <= steps; i++) {
      const started = performance.now();
      const { last_hidden_state: hidden } = await model({
        input_ids: new Tensor('int64', ids, [BATCH, SEQ]),
        attention_mask: new Tensor('int64', ones, [BATCH, SEQ]),
        token_type_ids: new Tensor('int64', zeros, [BATCH, SEQ]),
      });
      pool(hidden.data);
      times.push(performance.now() - started);
    }
    report({
      job: 'embed', backend: 'transformers.js', value: BATCH / (median(times.slice(1)) / 1000), unit: 'sentences/s',
      first_ms: times[0], threads: env.backends.onnx.wasm.numThreads, dtype: 'fp32', reference_cosine: worst,
    });
  } catch (e) {
    report({ job: 'embed', backend: 'transformers.js', error: errorText(e) });
  }
}
