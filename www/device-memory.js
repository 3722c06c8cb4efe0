// Remembers `auto`'s measured device choice per WebGPU adapter and backbone (main thread:
// workers have no localStorage), so each is measured once (device-choice.js measures).
const PREFIX = 'kindling-device-choice:';

/** The key for this browser's adapter and `backbone`, or null without WebGPU or storage. */
export async function choiceKey(backbone) {
  try {
    if (!globalThis.localStorage || !navigator.gpu) return null;
    const info = (await navigator.gpu.requestAdapter())?.info;
    if (!info) return null;
    return PREFIX + JSON.stringify([info.vendor, info.architecture, info.device, info.description, backbone]);
  } catch {
    return null;
  }
}

/** The remembered `{ kind, speeds }` under `key`, or null. */
export function recall(key) {
  try {
    const saved = key && JSON.parse(localStorage.getItem(key) ?? 'null');
    // Anything else in storage (edited, or an older format) is ignored: the devices are measured again.
    const kinds = ['webgpu', 'cpu'];
    const valid = kinds.includes(saved?.kind) && Array.isArray(saved.speeds) && saved.speeds.every((s) =>
      kinds.includes(s?.kind) && Number.isFinite(s.ms_per_example) && s.ms_per_example >= 0);
    return valid ? { kind: saved.kind, speeds: saved.speeds } : null;
  } catch {
    return null;
  }
}

/** Keeps a measured choice under `key` (storage full or off: it is measured again next time). */
export function remember(key, { kind, speeds }) {
  try {
    if (key) localStorage.setItem(key, JSON.stringify({ kind, speeds }));
  } catch { /* measured again next time */ }
}
