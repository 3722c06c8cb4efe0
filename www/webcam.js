// The camera: one stream shown in a <video>, frames captured as image files (so they are added,
// saved and decoded exactly like uploaded ones).
let stream = null;
let shots = 0;

function cameraError(e) {
  if (!window.isSecureContext) return new Error('The camera works only on https:// or localhost pages.');
  if (!navigator.mediaDevices?.getUserMedia) return new Error('This browser gives pages no camera access; add images from files instead.');
  switch (e?.name) {
    case 'NotAllowedError': return new Error('Camera permission was refused: allow the camera for this page in the browser\'s site settings, or add images from files.');
    case 'NotFoundError': case 'OverconstrainedError': return new Error('No camera was found; connect one or add images from files.');
    case 'NotReadableError': return new Error('The camera is in use by another program; close it and try again.');
    default: return new Error(`The camera could not start: ${e?.message ?? e}`);
  }
}

/** Starts the camera into `video`. */
export async function openCamera(video) {
  try {
    stream ??= await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (e) {
    throw cameraError(e);
  }
  video.srcObject = stream;
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener('loadeddata', resolve, { once: true }));
}

/** The current frame as a JPEG File. */
export async function captureFrame(video) {
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
  if (!blob) throw new Error('The camera frame could not be captured; try again.');
  shots += 1;
  return new File([blob], `webcam-${Date.now()}-${shots}.jpg`, { type: 'image/jpeg' });
}

/** Stops the camera (its light goes off). */
export function closeCamera(video) {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  video.srcObject = null;
}
