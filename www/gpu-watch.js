// Watches the GPU devices that kindling's wasm (wgpu) asks this worker's WebGPU for, so that a
// device lost mid-training — a driver reset, a GPU process crash, some systems when the tab is
// hidden — is told to the client, which rebuilds the project on the CPU device from its last
// checkpoint (client.js). A device wgpu destroys itself (reason 'destroyed') is not a loss,
// unless the test hook destroyed it.
const devices = [];
let lossMessage = null;
let simulated = false;

/** Wraps `GPUAdapter.requestDevice` (before the wasm asks for a device) so `onLost` hears of a loss. */
export function watchGpuDevices(onLost) {
  const adapter = globalThis.GPUAdapter?.prototype;
  if (!adapter?.requestDevice || adapter.requestDevice.kindlingWatched) return;
  const original = adapter.requestDevice;
  const watched = async function requestDevice(...args) {
    const device = await original.apply(this, args);
    devices.push(device);
    device.lost.then((info) => {
      if (info.reason === 'destroyed' && !simulated) return;
      lossMessage = info.message || 'the GPU device was lost';
      onLost(lossMessage);
    });
    return device;
  };
  watched.kindlingWatched = true;
  adapter.requestDevice = watched;
}

/**
 * Whether a GPU device of this worker has been lost, after letting the browser deliver a loss
 * that an error just seen may be the first sign of (an operation on a lost device fails before,
 * or after, its `lost` promise settles).
 */
export async function gpuLost() {
  if (!devices.length) return false;
  await new Promise((resolve) => setTimeout(resolve, 0));
  return lossMessage != null;
}

/** Test hook: loses every GPU device of this worker now, as a driver reset would. */
export function loseGpuDevices() {
  simulated = true;
  devices.forEach((device) => device.destroy());
  return devices.length;
}
