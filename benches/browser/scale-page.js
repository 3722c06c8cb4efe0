// One run of the scale job in a fresh page: the first `n` Fashion-MNIST training images (served
// by scale.mjs as raw 28×28 bytes) go to kindling's worker client as ImageData, class by class, as
// a page would add them; one epoch of the recipe trains on the CPU device. Resolves
// `window.scaleResult` to what the job prints: finished or not, the peak of kindling's wasm
// memory, feature-caching images/s and seconds per epoch.
import { KindlingClient } from '/client.js';

const CLASSES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
// The recipes as the page's table (www/options.js) sets them, one epoch.
const RECIPES = {
  quick: { strategy: { kind: 'feature_extraction' }, head: { hidden: [] } },
  balanced: { strategy: { kind: 'partial', trainable_blocks: 2 }, head: { hidden: [128], dropout: 0.2 } },
};
const SIDE = 28;
const ADD_CHUNK = 500; // images per addImageFiles request

const params = new URLSearchParams(location.search);
const recipe = params.get('recipe') ?? 'quick';
const n = Number(params.get('n') ?? 1000);
const log = (line) => { document.getElementById('out').textContent += `${line}\n`; console.log(`[scale] ${line}`); };

window.scaleResult = run().catch((e) => ({ recipe, n, finished: false, error: e?.message ?? String(e), peakWasmBytes }));

let peakWasmBytes = 0;
function sawMemory(memory) {
  if (memory) peakWasmBytes = Math.max(peakWasmBytes, memory.wasmBytes);
}

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Image `i` of the raw set as opaque greyscale RGBA. */
function imageData(pixels, i) {
  const image = new ImageData(SIDE, SIDE);
  for (let p = 0; p < SIDE * SIDE; p++) {
    const v = pixels[i * SIDE * SIDE + p];
    image.data.set([v, v, v, 255], 4 * p);
  }
  return image;
}

async function run() {
  if (!RECIPES[recipe]) throw new Error(`unknown recipe ${recipe}`);
  const [pixels, labels] = await Promise.all([bytes('/scale-data/images.bin'), bytes('/scale-data/labels.bin')]);
  if (labels.length < n) throw new Error(`only ${labels.length} images were served, ${n} asked`);
  const client = new KindlingClient({ onCaching: ({ memory }) => sawMemory(memory) });
  await client.create({
    backbone: { kind: 'mobilenet_v2' },
    device: 'cpu',
    weights: { url: '/weights/mobilenet_v2.safetensors' },
    config: { epochs: 1, early_stopping: null, ...RECIPES[recipe] },
  });
  const started = performance.now();
  for (const [label, name] of CLASSES.entries()) {
    const indices = [];
    for (let i = 0; i < n; i++) if (labels[i] === label) indices.push(i);
    for (let from = 0; from < indices.length; from += ADD_CHUNK) {
      const images = indices.slice(from, from + ADD_CHUNK).map((i) => imageData(pixels, i));
      const result = await client.addImageFiles(images, name);
      if (result.skipped.length) throw new Error(`${result.skipped.length} images skipped: ${result.skipped[0].reason}`);
    }
  }
  const addSeconds = (performance.now() - started) / 1000;
  sawMemory(await client.memory());
  log(`${recipe} ${n}: added in ${addSeconds.toFixed(1)} s`);
  const trainStart = performance.now();
  let report = null;
  for await (const r of client.train({ checkpoints: false })) {
    report = r;
    sawMemory(r.memory);
  }
  const total = (performance.now() - trainStart) / 1000;
  const cachingSeconds = Math.max(1e-9, total - report.epoch_seconds);
  const estimate = await client.memoryEstimate();
  client.terminate();
  return {
    recipe,
    n,
    finished: true,
    peakWasmBytes,
    addSeconds,
    cachingImagesPerSecond: n / cachingSeconds,
    epochSeconds: report.epoch_seconds,
    valAccuracy: report.val_accuracy,
    estimatedBytes: estimate?.total_bytes ?? null,
  };
}
