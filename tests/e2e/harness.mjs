// Shared test harness: the project's static server (tests/serve.mjs) for www/ on a free loopback
// port, and headless Chromium (Debian's, through playwright-core) with WebGPU enabled.
import { readdirSync } from 'node:fs';
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
