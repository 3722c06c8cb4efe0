// The camera panel's wiring: frames become image files of a class (one, or a burst of ten), or
// are predicted twice a second under "Try it".
import { openCamera, captureFrame, closeCamera } from './webcam.js';
import { addFiles, onClassCamera } from './image-classes.js';
import { state, errorText } from './page-state.js';
import { ui } from './ui.js';

const camera = { mode: null, entry: null, timer: null };

async function openWebcam(mode, entry = null) {
  const report = mode === 'class' ? ui.dataError : ui.tryError;
  report('');
  closeWebcam();
  ui.showWebcam(mode === 'class' ? `Capturing images for "${entry.name}"` : 'Predicting what the camera sees', mode);
  try {
    await openCamera(ui.webcamVideo());
  } catch (e) {
    ui.hideWebcam();
    report(errorText(e));
    return;
  }
  Object.assign(camera, { mode, entry });
  ui.webcamReady();
  if (mode === 'predict') predictFromCamera();
}

async function predictFromCamera() {
  if (camera.mode !== 'predict') return;
  try {
    const frame = await captureFrame(ui.webcamVideo());
    ui.showPrediction(await state.client.predictImageFile(frame, 3), state.trainedClasses);
  } catch (e) {
    ui.tryError(errorText(e));
    closeWebcam();
    return;
  }
  camera.timer = setTimeout(predictFromCamera, 500);
}

/** Stops the camera and hides the panel. */
export function closeWebcam() {
  clearTimeout(camera.timer);
  Object.assign(camera, { mode: null, entry: null, timer: null });
  closeCamera(ui.webcamVideo());
  ui.hideWebcam();
}

async function captureInto(count) {
  const entry = camera.entry;
  if (camera.mode !== 'class' || !state.classes.includes(entry)) return;
  const frames = [];
  for (let i = 0; i < count; i++) {
    frames.push(await captureFrame(ui.webcamVideo()));
    if (count > 1) await new Promise((r) => setTimeout(r, 150));
  }
  await addFiles(entry, frames);
}

onClassCamera((entry) => openWebcam('class', entry));
ui.onWebcam({
  capture: () => captureInto(1).catch((e) => ui.dataError(errorText(e))),
  burst: () => captureInto(10).catch((e) => ui.dataError(errorText(e))),
  close: closeWebcam,
  predict: () => openWebcam('predict'),
});
