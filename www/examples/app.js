// The example app's code (index.html): kindling in a Worker, from the page's own files only.
import { KindlingClient } from 'kindling/client';
const $ = (id) => document.getElementById(id);
const kindling = new KindlingClient();
const log = (text) => { $('log').textContent = text; };
const ready = kindling.create({ backbone: { kind: 'mobilenet_v2' }, weights: { url: '../weights/mobilenet_v2.safetensors' },
  config: { epochs: 8, learning_rate: 0.003 } }).catch((e) => log(`Error: ${e.message}`));
// How long a click waited for the main thread: training runs in the worker, so this stays small.
$('ping').onclick = (e) => { $('pong').textContent = `handled after ${(performance.now() - e.timeStamp).toFixed(0)} ms`; };
$('train').onclick = () => run(async () => {
  await kindling.addImageFiles($('tops').files, 'top');
  await kindling.addImageFiles($('bags').files, 'bag');
  for await (const e of kindling.train()) log(`epoch ${e.epoch + 1}: ${(100 * e.val_accuracy).toFixed(0)}% validation accuracy`);
  log(`${$('log').textContent} — done`);
});
$('export').onclick = () => run(async () => {
  const link = Object.assign(document.createElement('a'), { download: 'tops-or-bags.safetensors' });
  link.href = URL.createObjectURL(new Blob([await kindling.exportModel()])); link.click();
});
$('import').onchange = () => run(async () => log(`loaded: ${(await kindling.importModel(new Uint8Array(await $('import').files[0].arrayBuffer()))).classes}`));
$('try').onchange = () => run(async () => {
  const [p, classes] = [await kindling.predictImageFile($('try').files[0], 2), await kindling.classes()];
  $('answer').textContent = `${classes[p.classes[0]]} (p = ${p.probabilities[0].toFixed(6)})`;
});
const run = (work) => ready.then(work).catch((e) => log(`Error: ${e.message}`));
