// `auto` by measurement (worker side): where WebGPU could be used — the adapter is hardware, or
// the client asked (`measure_devices`) — the project's backbone is timed on WebGPU and on the
// CPU device (the threaded build when it can start), and the faster is chosen (the core's
// `device_speed`). The client remembers the figures per adapter (device-memory.js) and passes
// them back, so a project measures once per adapter and backbone.
import { anyBuild, buildFor } from './runtime.js';

/**
 * `{ kind, speeds: [{ kind, ms_per_example }], remembered }`, or null when `auto` keeps its rule
 * by name (no hardware adapter, and no measurement asked). `slow` is a test hook: that device's
 * figure is taken 1000× slower, and a second more.
 */
export async function measuredChoice({ backbone, bytes, adapter, remembered, always, slow }) {
  if (remembered?.kind) return { ...remembered, remembered: true };
  const single = await anyBuild();
  const byName = await single.module.chooseDevice('auto', adapter);
  if (byName.kind !== 'webgpu' && !always) return null;
  const measure = async (module, device) => {
    const ms = await module.measureDevice({ backbone, device, adapter_info: adapter }, bytes);
    return { kind: device, ms_per_example: device === slow ? ms * 1000 + 1000 : ms };
  };
  const speeds = [await measure(single.module, 'webgpu')];
  speeds.push(await measure((await buildFor('cpu', adapter)).module, 'cpu'));
  return { kind: single.module.fastestDevice(speeds).kind, speeds, remembered: false };
}

/** The sentence the device line shows for a measured choice. */
export function measuredReason({ kind, speeds, remembered }) {
  const name = (k) => (k === 'webgpu' ? 'WebGPU' : 'CPU');
  const figures = speeds.map((s) => `${name(s.kind)} ${s.ms_per_example.toFixed(2)} ms/example`).join(', ');
  return `measured on this backbone: ${figures}; ${name(kind)} is faster` +
    (remembered ? ' (measured before on this adapter)' : '');
}
