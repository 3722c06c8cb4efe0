// Which wasm build the worker runs a project on, loaded when first needed (worker.js asks):
//
// - the one-thread build (pkg/): WebGPU, and the CPU device on one thread;
// - the threaded build (pkg-threads/): the CPU device on a pool of Web Workers behind rayon
//   (wasm-bindgen-rayon), started here — inside the worker, where blocking waits are allowed,
//   never on the page's main thread. It has no WebGPU: with wasm atomics wgpu's types are not
//   `Send`, which burn's GPU runtime requires (README, Threads).
//
// A project on the CPU device runs on the threaded build when more than one thread is asked for
// (the default is one per core) and the page is cross-origin isolated (shared memory needs it);
// otherwise on the one-thread build, and `runtime.reason` says why. For `auto` the one-thread
// build first says whether WebGPU would be chosen (a hardware adapter), without creating anything.

/** At most this many pool threads, whatever is asked (more than the cores only adds overhead). */
export const MAX_THREADS = 64;

const NOT_ISOLATED = 'one thread: this page is not cross-origin isolated, and wasm threads need it ' +
  '(its server must send Cross-Origin-Opener-Policy: same-origin and ' +
  'Cross-Origin-Embedder-Policy: require-corp; README, Threads)';

let asked = null; // the client's thread count (null: one per core)
let wasmUrls = {}; // { single?, threaded? }: the client's overrides of where each build's .wasm is
const loaded = { single: null, threaded: null }; // promises of { module, memory }

/**
 * The client's first message: its thread count (null: one per core) and where the builds' `.wasm`
 * files are (`{ single?, threaded? }`; by default next to their JS, as wasm-bindgen finds them).
 */
export function askThreads(threads, wasm = {}) {
  asked = Number.isInteger(threads) && threads >= 1 ? Math.min(threads, MAX_THREADS) : null;
  wasmUrls = { single: wasm?.single, threaded: wasm?.threaded };
}

// wasm-bindgen's init: with no URL it loads the .wasm next to its JS (`import.meta.url`). A
// failure says which file, and is not kept: the next create() tries again.
async function init(module, url, build) {
  try {
    return await module.default(url ? { module_or_path: url } : undefined);
  } catch (e) {
    loaded[build] = null;
    throw new Error(`could not load kindling's ${build === 'single' ? 'one-thread' : 'threaded'} wasm from ${url ?? 'next to the package'}: ${e?.message ?? e} (check the client's ${build === 'single' ? 'wasmUrl' : 'threadsWasmUrl'})`);
  }
}

function singleBuild() {
  loaded.single ??= (async () => {
    const module = await import('./pkg/kindling.js');
    return { module, memory: (await init(module, wasmUrls.single, 'single')).memory };
  })();
  return loaded.single;
}

function threadedBuild(threads) {
  loaded.threaded ??= (async () => {
    const module = await import('./pkg-threads/kindling.js');
    const { memory } = await init(module, wasmUrls.threaded, 'threaded');
    await module.initThreadPool(threads); // a pool's size is fixed once started
    return { module, memory, threads };
  })();
  return loaded.threaded;
}

async function oneThread(reason) {
  return { ...(await singleBuild()), runtime: { threads: 1, build: 'single', reason } };
}

/**
 * The build for a project on `device` ('auto' | 'webgpu' | 'cpu'): `{ module, memory, runtime:
 * { threads, build, reason }, autoChoice }`, where `autoChoice` is the one-thread build's device
 * for `auto` when it chose the CPU (its reason is the one to show).
 */
export async function buildFor(device = 'auto', adapterInfo = undefined) {
  const threads = asked ?? Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS);
  if (threads === 1) return oneThread(asked === 1 ? 'one thread, as asked' : 'one thread: the browser reports one core');
  if (!self.crossOriginIsolated) return oneThread(NOT_ISOLATED);
  if (device === 'webgpu') return oneThread('one thread: the WebGPU device runs in the one-thread build');
  let autoChoice = null;
  if (device !== 'cpu' && navigator.gpu) {
    const single = await singleBuild();
    autoChoice = await single.module.chooseDevice(device, adapterInfo);
    if (autoChoice.kind === 'webgpu') return oneThread('one thread: WebGPU was chosen, and it runs in the one-thread build');
  }
  try {
    const build = await threadedBuild(threads);
    const reason = build.threads === threads ? (asked ? `${threads} threads, as asked` : `${threads} threads, one per core`)
      : `${build.threads} threads: this worker's pool started with ${build.threads} (a pool's size is fixed)`;
    return { module: build.module, memory: build.memory, runtime: { threads: build.threads, build: 'threaded', reason }, autoChoice };
  } catch (e) {
    return oneThread(`one thread: the threaded build could not start (${e?.message ?? e})`);
  }
}

/** A build for work that needs no device (a text file's columns): the one-thread build. */
export function anyBuild() { return singleBuild(); }
