// Wiring: page events -> client calls -> page updates.
import { KindlingClient } from './client.js';
import { syntheticFeatures } from './data.js';
import { ui } from './ui.js';

let client = null;
let paused = false;
let stopped = false;

ui.onPause(() => {
  paused = !paused;
  if (paused) client?.pause(); else client?.resume();
  ui.setPaused(paused);
  ui.setStatus(paused ? 'Paused.' : 'Training…');
});

ui.onStop(() => { stopped = true; client?.stop(); });

ui.onTrain(async () => {
  ui.showError('');
  ui.setBusy(true);
  try {
    const epochs = ui.epochs();
    client?.terminate();
    client = new KindlingClient();
    ui.setStatus('Opening the device…');
    const data = syntheticFeatures();
    const device = await client.create({
      backbone: { kind: 'features', dim: data.dim },
      device: ui.devicePreference(),
      config: { epochs, learning_rate: 0.02, early_stopping: null },
    });
    ui.setDevice(device);
    await client.addExamples(data.values, data.labels, data.classes);
    ui.clearMetrics();
    paused = false;
    stopped = false;
    ui.setStatus('Training…');
    let last = null;
    for await (const report of client.train()) {
      ui.addEpoch(report);
      ui.setStatus(`Epoch ${report.epoch + 1} of ${report.epochs}`);
      last = report;
    }
    if (stopped) ui.setStatus(`Stopped after ${last ? last.epoch + 1 : 0} epoch(s); the model trained so far is kept.`);
    else ui.setStatus(last?.stopped ?? `Done: validation accuracy ${(100 * last.val_accuracy).toFixed(1)}%`);
  } catch (e) {
    ui.showError(e.message);
    ui.setStatus('');
  } finally {
    ui.setBusy(false);
  }
});
