// Shared test harness: the project's static server (tests/serve.mjs) for www/ on a free loopback
// port, and headless Chromium (Debian's, through playwright-core) with WebGPU enabled.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve as serveDir } from '../serve.mjs';

/** Serves `root` (default: $WWW); resolves to `{ url, close }` (and `origin`, `port`). */
export function serve(root = process.env.WWW, options = {}) {
  return serveDir(root, options);
}

/** The real Fashion-MNIST PNGs the tests upload (tests/fixtures/fashion/). */
export const FASHION = fileURLToPath(new URL('../fixtures/fashion/', import.meta.url));

/** Paths of the fixture images of class `name` (tshirt, trouser, bag, …), sorted, from `from` up to `to`. */
export function images(name, from, to) {
  return readdirSync(FASHION).filter((f) => f.startsWith(`${name}-`)).sort().slice(from, to).map((f) => FASHION + f);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
      // A synthetic camera, allowed without a prompt, for the webcam tests.
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
}

export async function screenshot(page, name) {
  const dir = new URL('./screenshots/', import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

// axe-core's script, evaluated in the page through the debugging protocol (the page's CSP allows
// only its own scripts, and an audit must not change that).
const AXE = createRequire(import.meta.url)('axe-core').source;

/**
 * Runs axe-core (WCAG 2.1 A/AA and best practices) on the page as it is now; resolves to the
 * violations of impact serious or critical, each as "rule: what (where)". Hidden parts are not
 * audited (axe skips them), so audit each main screen in its state.
 */
export async function accessibilityProblems(page) {
  if (!await page.evaluate(() => Boolean(window.axe))) await page.evaluate(AXE);
  const violations = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))));
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

/**
 * Opens the page at `url`, starts an image project and fills its classes: `classes` is
 * `[[name, files]]` (files whose name says "corrupt" are expected to be refused); `device`: the
 * "Compute on" choice (default: automatic).
 */
export async function openImageProject(page, url, classes, { device } = {}) {
  await page.goto(url);
  if (device) await page.selectOption('#device-choice', device);
  await page.click('#open');
  await page.waitForSelector('.class >> nth=1');
  while ((await page.$$('.class')).length < classes.length) await page.click('#add-class');
  const cards = await page.$$('.class');
  for (const [i, [name, files]] of classes.entries()) {
    const nameInput = await cards[i].$('input[type=text]');
    await nameInput.fill(name);
    await nameInput.dispatchEvent('change');
    if (files.length) await (await cards[i].$('input[type=file]')).setInputFiles(files);
    await page.waitForFunction(([idx, n]) => document.querySelectorAll('.class')[idx].querySelector('.count').textContent.startsWith(`${n} `), [i, files.filter((f) => !f.includes('corrupt')).length]);
  }
}

/** Trains with `recipe`, `epochs` and learning rate `lr` set in the Advanced panel; waits for the end. */
export async function train(page, recipe, epochs, lr = '0.003') {
  await page.check(`input[name=recipe][value=${recipe}]`);
  await page.click('#advanced > summary');
  await page.fill('#epochs', String(epochs));
  await page.fill('#lr', lr);
  await page.click('#train');
  await page.waitForFunction(() => !document.querySelector('#train').disabled, null, { timeout: 600_000 });
}
