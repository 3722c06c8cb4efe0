// Counts the WebGPU work a job hands the browser, for either side alike: the page wraps the
// prototype methods every WebGPU program goes through (kindling's wgpu glue and TF.js's webgpu
// backend both call them on the objects, looked up at each call), so nothing in either library
// changes. A counter costs one increment per call.

/** What has been counted since the page started. */
const counts = { dispatches: 0, submits: 0, buffers: 0, readbacks: 0, readBytes: 0, uploadBytes: 0 };

function wrap(proto, name, count) {
  const original = proto?.[name];
  if (typeof original !== 'function') return;
  proto[name] = function counted(...args) {
    count.apply(this, args);
    return original.apply(this, args);
  };
}

let installed = false;

/** Wraps the methods once; false where the browser has no WebGPU. */
export function installGpuCounters() {
  if (installed) return true;
  if (typeof GPUDevice === 'undefined') return false;
  installed = true;
  const compute = globalThis.GPUComputePassEncoder?.prototype;
  wrap(compute, 'dispatchWorkgroups', () => { counts.dispatches += 1; });
  wrap(compute, 'dispatchWorkgroupsIndirect', () => { counts.dispatches += 1; });
  wrap(GPUQueue.prototype, 'submit', () => { counts.submits += 1; });
  wrap(GPUQueue.prototype, 'writeBuffer', (buffer, offset, data, dataOffset = 0, size) => {
    const whole = data?.byteLength ?? 0;
    const unit = data?.BYTES_PER_ELEMENT ?? 1;
    counts.uploadBytes += size !== undefined ? size * unit : whole - dataOffset * unit;
  });
  wrap(GPUDevice.prototype, 'createBuffer', () => { counts.buffers += 1; });
  wrap(GPUBuffer.prototype, 'mapAsync', function count(mode, offset = 0, size) {
    if (!(mode & GPUMapMode.READ)) return;
    counts.readbacks += 1;
    counts.readBytes += size ?? this.size - offset;
  });
  return true;
}

/** A copy of the counts now. */
export const gpuSnapshot = () => ({ ...counts });

/**
 * The work between two snapshots per unit of the job: per training step (`steps`) for dispatches,
 * submits and buffers created; read-backs and their bytes per epoch for head training (`epochs`),
 * per batch or step for the others (where `epochs` is undefined). `counted` says what the
 * snapshots bracket: the timed steps alone, or (a job that marks no start of its timed part) the
 * whole job, its setup spread over the steps.
 */
export function gpuWork(before, after, { steps, epochs, counted }) {
  const d = (key) => after[key] - before[key];
  const per = epochs ?? steps;
  return {
    steps,
    epochs,
    dispatches_per_step: d('dispatches') / steps,
    submits_per_step: d('submits') / steps,
    buffers_per_step: d('buffers') / steps,
    readbacks_per_unit: d('readbacks') / per,
    read_bytes_per_unit: d('readBytes') / per,
    upload_bytes_per_step: d('uploadBytes') / steps,
    unit: epochs === undefined ? 'step' : 'epoch',
    counted,
  };
}
