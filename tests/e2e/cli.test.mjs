// The command line and the browser share their model files: a MobileNetV2 model trained by the
// native `kindling train` opens in the browser (the Worker client, as the page imports it) and
// predicts the same probabilities as `kindling predict` (± 1e-5), and a model trained in the
// browser predicts the same in `kindling predict`. The CLI is the binary `cargo test` builds
// ($KINDLING_CLI, which ./build.sh test passes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { serve, launch, images } from './harness.mjs';

const CLI = process.env.KINDLING_CLI;
const WEIGHTS = join(process.env.WWW, 'weights/mobilenet_v2.safetensors');
let server;
let browser;
let work;
before(async () => {
  assert.ok(CLI && existsSync(CLI), `KINDLING_CLI must name the kindling binary (cargo test builds it), not ${CLI}`);
  server = await serve();
  browser = await launch();
  work = mkdtempSync(join(tmpdir(), 'kindling-cli-e2e-'));
});
after(async () => {
  await browser?.close();
  server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A folder of copies of `files` (so `kindling predict --input` reads exactly these). */
function folder(name, files) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(f, join(dir, basename(f)));
  return dir;
}

// Images the models did not train on (the fixtures hold 9 per class; training takes the first 6).
const PROBES = [...images('tshirt', 6, 9), ...images('bag', 6, 9)];

/** `kindling predict`'s probabilities per probe file name: { name: { class: p } } (top 2 of 2 classes). */
function cliPredictions(model) {
  const out = join(work, `${basename(model)}.csv`);
  execFileSync(CLI, ['predict', '--model', model, '--input', folder('probes', PROBES), '--weights', WEIGHTS, '--out', out, '--top-k', '2']);
  const [, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
  return Object.fromEntries(rows.map((row) => {
    const [input, c1, p1, c2, p2] = row.split(',');
    return [basename(input), { [c1]: Number(p1), [c2]: Number(p2) }];
  }));
}

/**
 * In a page of the site, with the Worker client: a MobileNetV2 project that imports `model` (bytes)
 * or, without one, trains on `training` ({ class: [{ name, bytes }] }); then the probabilities of
 * each probe. Resolves to { model (bytes, exported), predictions: { name: { class: p } } }.
 */
async function browserPredictions(page, { model = null, training = null }) {
  const probes = PROBES.map((f) => ({ name: basename(f), bytes: [...readFileSync(f)] }));
  return page.evaluate(async ({ model, training, probes }) => {
    const { KindlingClient } = await import('/client.js');
    const client = new KindlingClient();
    await client.create({ backbone: { kind: 'mobilenet_v2' }, device: 'cpu', weights: { url: '/weights/mobilenet_v2.safetensors' },
      config: { epochs: 4, learning_rate: 0.003, seed: 3 } });
    const png = ({ name, bytes }) => new File([new Uint8Array(bytes)], name, { type: 'image/png' });
    if (model) {
      await client.importModel(new Uint8Array(model));
    } else {
      for (const [name, files] of Object.entries(training)) await client.addImageFiles(files.map(png), name);
      for await (const _ of client.train()) { /* every epoch */ }
    }
    const classes = await client.classes();
    const predictions = {};
    for (const probe of probes) {
      const p = await client.predictImageFile(png(probe), 2);
      predictions[probe.name] = Object.fromEntries(p.classes.map((c, i) => [classes[c], p.probabilities[i]]));
    }
    const exported = [...await client.exportModel()];
    client.terminate();
    return { model: exported, predictions };
  }, { model, training, probes });
}

function assertSame(browser, cli) {
  assert.deepEqual(Object.keys(browser).sort(), Object.keys(cli).sort());
  for (const [name, probabilities] of Object.entries(cli)) {
    for (const [cls, p] of Object.entries(probabilities)) {
      const q = browser[name][cls];
      assert.ok(Math.abs(p - q) <= 1e-5, `${name} ${cls}: ${p} in the CLI, ${q} in the browser`);
    }
  }
}

test('a model trained by the CLI predicts the same in the browser', async () => {
  const data = join(work, 'data');
  folder('data/tshirt', images('tshirt', 0, 6));
  folder('data/bag', images('bag', 0, 6));
  const config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify({ epochs: 4, learning_rate: 0.003, seed: 3 }));
  const model = join(work, 'cli-model.safetensors');
  execFileSync(CLI, ['train', '--data', data, '--backbone', 'mobilenet-v2', '--weights', WEIGHTS, '--recipe', 'quick',
    '--config', config, '--out', model], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cli = cliPredictions(model);
  assert.ok(Object.values(cli).every((p) => Object.keys(p).length === 2), JSON.stringify(cli));
  const page = await browser.newPage();
  await page.goto(`${server.url}examples/`);
  const { predictions } = await browserPredictions(page, { model: [...readFileSync(model)] });
  assertSame(predictions, cli);
  console.log(`CLI → browser: ${JSON.stringify(cli)}`);
  await page.close();
});

test('a model trained in the browser predicts the same in the CLI', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}examples/`);
  const training = Object.fromEntries(['tshirt', 'bag'].map((c) => [c, images(c, 0, 6).map((f) => ({ name: basename(f), bytes: [...readFileSync(f)] }))]));
  const { model, predictions } = await browserPredictions(page, { training });
  const file = join(work, 'browser-model.safetensors');
  writeFileSync(file, Uint8Array.from(model));
  assertSame(predictions, cliPredictions(file));
  await page.close();
});
