// Job 6: the adapter's attainable f32 throughput, from our own WGSL matrix multiply on raw
// WebGPU (no framework), so jobs 2 and 3 can be read as a fraction of what the GPU can do.
import { median, errorText } from './util.js';

// Two kernel designs, because no single one is fast everywhere: `tiled` stages 64×64 tiles of A
// and B in workgroup memory (what discrete GPUs reward); `register` keeps an 8×4 block of C per
// invocation in registers and relies on caches, with no barriers (what CPU-emulated adapters such
// as SwiftShader reward: there it is ≈ 2–3× faster than `tiled`). The peak is the faster one —
// a lower bound on the adapter's true peak. Both: f32, row-major N×N, B and C read as vec4 rows.
const HEADER = (n) => `
const N = ${n}u;
const Q = N / 4u; // vec4s per row
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
`;

const KERNELS = {
  // Workgroup 16×16 → a 64-row × 64-column tile of C; invocation (x, y) owns rows y + 16i,
  // vec4 column x. A and B pass through workgroup memory in K-slices of 16.
  tiled: {
    workgroups: (n) => [n / 64, n / 64],
    code: (n) => `${HEADER(n)}
var<workgroup> ta: array<f32, 1024>;  // 64 rows × 16 k
var<workgroup> tb: array<vec4f, 256>; // 16 k × 16 vec4 columns

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let t = l.y * 16u + l.x;
  let row0 = wg.y * 64u;
  let q0 = wg.x * 16u;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < N; k0 += 16u) {
    for (var i = 0u; i < 4u; i++) {
      let e = t + i * 256u;
      ta[e] = a[(row0 + e / 16u) * N + k0 + e % 16u];
    }
    tb[t] = b[(k0 + t / 16u) * Q + q0 + t % 16u];
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      let bv = tb[k * 16u + l.x];
      for (var i = 0u; i < 4u; i++) {
        acc[i] = fma(vec4f(ta[(l.y + 16u * i) * 16u + k]), bv, acc[i]);
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    c[(row0 + l.y + 16u * i) * Q + q0 + l.x] = acc[i];
  }
}`,
  },
  // Invocation (x, y) owns rows 8y..8y+7, vec4 column x; K advances 4 at a time (A read as
  // scalars, B as 4 vec4 rows), so every load feeds 8 or 4 FMAs.
  register: {
    workgroups: (n) => [n / 4 / 16, n / 8 / 16],
    code: (n) => `${HEADER(n)}
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let row0 = g.y * 8u;
  var acc: array<vec4f, 8>;
  for (var k = 0u; k < N; k += 4u) {
    let b0 = b[k * Q + g.x];
    let b1 = b[(k + 1u) * Q + g.x];
    let b2 = b[(k + 2u) * Q + g.x];
    let b3 = b[(k + 3u) * Q + g.x];
    for (var i = 0u; i < 8u; i++) {
      let r = (row0 + i) * N + k;
      acc[i] = fma(vec4f(a[r]), b0, fma(vec4f(a[r + 1u]), b1,
               fma(vec4f(a[r + 2u]), b2, fma(vec4f(a[r + 3u]), b3, acc[i]))));
    }
  }
  for (var i = 0u; i < 8u; i++) {
    c[(row0 + i) * Q + g.x] = acc[i];
  }
}`,
  },
};

function randomMatrix(n) {
  return Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
}

/** Reads C back and compares a few entries with a dot product in JS: a wrong kernel's speed means nothing. */
async function check(device, c, a, b, n) {
  const staging = device.createBuffer({ size: n * n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(c, 0, staging, 0, n * n * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  for (const [i, j] of [[0, 0], [n - 1, n - 1], [17, n - 3], [n / 2 + 5, 63]]) {
    let want = 0;
    for (let k = 0; k < n; k++) want += a[i * n + k] * b[k * n + j];
    if (Math.abs(got[i * n + j] - want) > 1e-3 * (1 + Math.abs(want))) {
      throw new Error(`matmul check failed at C[${i}][${j}]: got ${got[i * n + j]}, want ${want}`);
    }
  }
}

async function requestAdapter() {
  if (!navigator.gpu) throw new Error('navigator.gpu is missing: WebGPU is disabled or the page is not a secure context');
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter');
  return adapter;
}

/** The adapter the page gets, for the report's header (GPUAdapter.info). */
export async function adapterInfo() {
  const adapter = await requestAdapter();
  const { vendor, architecture, device, description } = adapter.info;
  return { vendor, architecture, device, description, fallback: adapter.info.isFallbackAdapter };
}

/** Times one kernel: a checked warm-up, then `samples` submissions of `reps` dispatches each. */
async function timeKernel(device, kernel, buffers, { n, samples, targetMs }) {
  const pipeline = await device.createComputePipelineAsync({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: kernel.code(n) }), entryPoint: 'main' },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [buffers.a, buffers.b, buffers.c].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const [x, y] = kernel.workgroups(n);
  // Zero C so that the check cannot pass on the previous kernel's output.
  const clear = device.createCommandEncoder();
  clear.clearBuffer(buffers.c);
  device.queue.submit([clear.finish()]);
  const time = async (reps) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(x, y);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  const first_ms = await time(1);
  await check(device, buffers.c, buffers.hostA, buffers.hostB, n);
  // Enough dispatches per submission to last ≈ targetMs, so submission overhead does not hide
  // a fast GPU.
  const reps = Math.max(1, Math.min(64, Math.round(targetMs / (await time(1)))));
  const runs_ms = [];
  for (let s = 0; s < samples; s++) runs_ms.push(await time(reps));
  return { gflops: (2 * n ** 3 * reps) / (median(runs_ms) / 1e3) / 1e9, reps, first_ms, runs_ms };
}

/** Job 6: GFLOP/s of the faster kernel (median of `samples`), with each kernel's figures. */
export async function runPeak({ n = 1024, samples = 5, targetMs = 200 } = {}) {
  const adapter = await requestAdapter();
  const device = await adapter.requestDevice();
  try {
    const upload = (data, usage) => {
      const buf = device.createBuffer({ size: n * n * 4, usage });
      if (data) device.queue.writeBuffer(buf, 0, data);
      return buf;
    };
    const hostA = randomMatrix(n);
    const hostB = randomMatrix(n);
    const buffers = {
      hostA, hostB,
      a: upload(hostA, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
      b: upload(hostB, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
      c: upload(null, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST),
    };
    const kernels = {};
    for (const [name, kernel] of Object.entries(KERNELS)) {
      try {
        kernels[name] = await timeKernel(device, kernel, buffers, { n, samples, targetMs });
      } catch (e) {
        kernels[name] = { error: errorText(e) };
      }
    }
    const ok = Object.entries(kernels).filter(([, k]) => !k.error);
    if (!ok.length) throw new Error(Object.entries(kernels).map(([name, k]) => `${name}: ${k.error}`).join('; '));
    const [best, fastest] = ok.reduce((p, q) => (q[1].gflops > p[1].gflops ? q : p));
    return {
      job: 'peak', backend: 'raw-webgpu', value: fastest.gflops, unit: 'GFLOP/s',
      first_ms: fastest.first_ms, n, kernel: best, kernels,
    };
  } finally {
    device.destroy();
  }
}
