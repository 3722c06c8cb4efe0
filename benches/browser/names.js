// Names shared by the page and the runner: jobs, TF.js backends, kindling devices.

/**
 * Jobs in run order. `peak` is job 6 (raw WebGPU); job 5 is read from `features` and `finetune`;
 * `product_nn` and `product_tn` are job 8 (the head's two large matrix products alone).
 */
export const JOBS = ['head', 'features', 'finetune', 'embed', 'peak', 'product_nn', 'product_tn'];
export const TFJS_JOBS = ['head', 'features', 'finetune', 'product_nn', 'product_tn'];
export const KINDLING_JOBS = ['head', 'features', 'finetune', 'embed', 'product_nn', 'product_tn'];
/** TF.js backends in run order (cpu last: other backends may borrow its kernels). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'];
/**
 * kindling's devices (`benchmark(job, { device })`): `threads` is the CPU device of the threaded
 * build in workers, with a pool of one thread and of one per core (the scaling ratio).
 */
export const DEVICES = ['webgpu', 'cpu', 'threads'];
/** Other peers: transformers.js (job 4, MiniLM embedding). */
export const PEERS = ['transformers'];
