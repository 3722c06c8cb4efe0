// Images in the worker: decoded by the browser (createImageBitmap) and shrunk to what the
// backbones use, and kept between runs as compact encoded Blobs. kindling's wasm never holds
// their pixels for longer than a step (worker.js hands a run the ones it asks for).

// Images are shrunk as they are decoded: the backbones resize to 256 px and crop 224, and
// augmentation's random crops work from up to 384 px, so a 384-px short side keeps what they use
// (the predictions of a shrunk photo differ from the full one's only by resampling); the long
// side stops at 1536 px (4:1), so 32 decoded images stay under 76 MB. Beyond MAX_SIDE × MAX_SIDE
// pixels an image is refused before it is drawn (kindling refuses it too).
const MAX_SHORT_SIDE = 384;
const MAX_LONG_SIDE = 1536;
const MAX_SIDE = 8192;

// Any image the browser decodes (PNG, JPEG, WebP, GIF, BMP; or ImageData, ImageBitmap) -> RGBA
// pixels, shrunk (aspect kept) to at most MAX_SHORT_SIDE on the short side and MAX_LONG_SIDE on the
// long one.
export async function decode(file) {
  const name = file.name ?? 'the image';
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${name} is not an image this browser can read`);
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_SIDE * MAX_SIDE) {
      throw new Error(`${name} is ${width}×${height} pixels; images up to ${MAX_SIDE}×${MAX_SIDE} are accepted: shrink it first`);
    }
    const scale = Math.min(1, MAX_SHORT_SIDE / Math.min(width, height), MAX_LONG_SIDE / Math.max(width, height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { data: new Uint8Array(data.buffer), width: canvas.width, height: canvas.height };
  } finally {
    bitmap.close();
  }
}

// What an image source is kept as: a Blob (a File stays a reference to the disk); pixels given
// as ImageData, an ImageBitmap or a canvas are encoded as PNG (lossless, so they decode to the
// same pixels each time a run asks for them).
export async function encoded(source) {
  if (source instanceof Blob) return source;
  let canvas;
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    canvas = new OffscreenCanvas(source.width, source.height);
    canvas.getContext('2d').putImageData(source, 0, 0);
  } else {
    const { width, height } = source;
    if (!(width > 0 && height > 0)) throw new Error('not an image: give files, blobs, ImageData or an ImageBitmap');
    if (width * height > MAX_SIDE * MAX_SIDE) {
      throw new Error(`the image is ${width}×${height} pixels; images up to ${MAX_SIDE}×${MAX_SIDE} are accepted: shrink it first`);
    }
    canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d').drawImage(source, 0, 0);
  }
  return canvas.convertToBlob({ type: 'image/png' });
}
