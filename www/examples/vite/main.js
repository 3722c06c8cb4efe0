// kindling as a Vite app uses it: `npm install kindling`, import the client, and Vite bundles the
// worker and both wasm builds (vite.config.js: `worker.format: 'es'`).
import { KindlingClient } from 'kindling/client';

const $ = (id) => document.getElementById(id);
const log = (text) => { $('log').textContent = text; };
const kindling = new KindlingClient();
// Relative to this page, wherever the bundled worker lives (here: served from public/weights/).
const ready = kindling.create({
  backbone: { kind: 'mobilenet_v2' },
  weights: { url: 'weights/mobilenet_v2.safetensors' },
  config: { epochs: 6, learning_rate: 0.003 },
});
const run = (work) => ready.then(work).catch((e) => log(`Error: ${e.message}`));

ready.then(async () => {
  const device = await kindling.device();
  log(`ready: ${device.kind}, ${device.threads} thread(s) (${device.threadsReason})`);
}, (e) => log(`Error: ${e.message}`));

$('train').onclick = () => run(async () => {
  await kindling.addImageFiles($('tops').files, 'top');
  await kindling.addImageFiles($('bags').files, 'bag');
  for await (const e of kindling.train()) log(`epoch ${e.epoch + 1}: ${(100 * e.val_accuracy).toFixed(0)}% validation accuracy`);
  log(`${$('log').textContent} — done`);
});

$('try').onchange = () => run(async () => {
  const [p, classes] = [await kindling.predictImageFile($('try').files[0], 2), await kindling.classes()];
  $('answer').textContent = `${classes[p.classes[0]]} (p = ${p.probabilities[0].toFixed(4)})`;
});
