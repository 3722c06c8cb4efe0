// Image projects: classes added, renamed and deleted, files added (checked here, decoded again in
// the worker for training), their thumbnails, and the imbalance warning.
import { state } from './page-state.js';
import { ui } from './ui.js';
import * as saving from './saving.js';
import { classesFromDrop, classesFromPicker, classesFromZip } from './class-folders.js';

let cameraFor = () => {};

// Thumbnails are made once per image, small (80 px on the short side: the 40-px cells at 2× pixel
// density), so that a class of thousands of photos shows only kilobytes of JPEG, never the
// photos themselves decoded at full size.
const THUMB_SIDE = 80;

// How far a grey pixel's channels may differ (JPEG's chroma rounding), as kindling's own check.
const GREY_TOLERANCE = 3;

/** A small JPEG of `bitmap` as an object URL, and whether the image is greyscale (R = G = B). */
async function thumbnail(bitmap) {
  const scale = Math.min(1, THUMB_SIDE / Math.min(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let grey = true;
  for (let i = 0; grey && i < pixels.length; i += 4) {
    grey = Math.abs(pixels[i] - pixels[i + 1]) <= GREY_TOLERANCE && Math.abs(pixels[i + 1] - pixels[i + 2]) <= GREY_TOLERANCE;
  }
  return { url: URL.createObjectURL(await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 })), grey };
}

/** Counts an image's colour in its class: the recipes adapt to greyscale projects (`imageProfile`). */
function noteColour(entry, grey) {
  entry.checked = (entry.checked ?? 0) + 1;
  entry.colour = (entry.colour ?? 0) + (grey ? 0 : 1);
}

/**
 * What the recipes adapt to (`Recipe::adapt`): the smallest class and whether every image is
 * greyscale — only when every image has been looked at (a reopened project's are, as their
 * thumbnails are remade), else not claimed.
 */
export function imageProfile() {
  const classes = state.classes.filter((c) => c.files.length > 0);
  const smallest = Math.min(...classes.map((c) => c.files.length));
  const greyscale = classes.length > 0 && classes.every((c) => c.checked === c.files.length && c.colour === 0);
  return { smallest_class: Number.isFinite(smallest) ? smallest : 0, images: true, greyscale };
}

/** Replaces a reopened class's thumbnails (the files themselves, at first) by small ones. */
async function shrinkThumbnails(entry) {
  for (const [i, file] of entry.files.entries()) {
    if (!state.classes.includes(entry)) return; // deleted meanwhile (its URLs are revoked)
    try {
      const bitmap = await createImageBitmap(file);
      const { url, grey } = await thumbnail(bitmap).finally(() => bitmap.close());
      if (!state.classes.includes(entry)) { URL.revokeObjectURL(url); return; }
      noteColour(entry, grey);
      URL.revokeObjectURL(entry.urls[i]);
      entry.urls[i] = url;
    } catch {
      // Unreadable now: the file's own URL stays (the browser shows it as broken).
    }
    if (i % 200 === 199) ui.setClassImages(entry.card, entry.urls);
  }
  ui.setClassImages(entry.card, entry.urls);
}

/** Who opens the camera for a class (camera-panel.js registers itself). */
export function onClassCamera(handler) { cameraFor = handler; }

/**
 * Adds a class card; `saved` = { id, name, files } when it comes from a saved project, else it is
 * a new class called `name` (default "Class N").
 */
export function addClass(saved = null, name = null) {
  const entry = {
    id: saved?.id ?? `c${state.nextClass}`,
    name: saved?.name ?? name ?? `Class ${state.nextClass}`,
    files: [],
    urls: [],
    saved: 0,
  };
  if (!saved) state.nextClass += 1;
  entry.card = ui.addClassCard(entry.name, {
    onFiles: (files) => addFiles(entry, files),
    onDrop: (transfer) => dropOnClass(entry, transfer),
    onRename: (name) => renameClass(entry, name),
    onDelete: () => deleteClass(entry),
    onCamera: () => cameraFor(entry),
  });
  state.classes.push(entry);
  if (saved) {
    entry.files = saved.files;
    entry.urls = saved.files.map((f) => URL.createObjectURL(f));
    entry.saved = saved.files.length;
    ui.setClassImages(entry.card, entry.urls);
    shrinkThumbnails(entry);
  } else {
    saving.saveSoon();
  }
  checkBalance();
  return entry;
}

function renameClass(entry, name) {
  const trimmed = name.trim();
  const problem = !trimmed ? 'A class needs a name.'
    : state.classes.some((c) => c !== entry && c.name === trimmed) ? `There is already a class called "${trimmed}".` : '';
  if (problem || state.renameProblem) ui.dataError(problem);
  state.renameProblem = Boolean(problem);
  if (problem) return;
  entry.name = trimmed;
  ui.renameClassCard(entry.card, trimmed);
  saving.saveSoon();
}

function deleteClass(entry) {
  entry.urls.forEach((u) => URL.revokeObjectURL(u));
  state.classes = state.classes.filter((c) => c !== entry);
  ui.removeClassCard(entry.card);
  saving.forgetClass(entry);
  checkBalance();
}

/** Removes every class card (before another project is opened). */
export function clearClasses() {
  for (const entry of state.classes) { entry.urls.forEach((u) => URL.revokeObjectURL(u)); ui.removeClassCard(entry.card); }
  state.classes = [];
  checkBalance();
}

/**
 * Adds image files to a class; unreadable ones are skipped, named in the error line (unless
 * `report` is false) and returned.
 */
export async function addFiles(entry, files, report = true) {
  const skipped = [];
  for (const file of files) {
    try {
      // Decoding here checks the file and makes its thumbnail; the worker decodes it again for
      // training.
      const bitmap = await createImageBitmap(file);
      const { url, grey } = await thumbnail(bitmap).finally(() => bitmap.close());
      entry.files.push(file);
      entry.urls.push(url);
      noteColour(entry, grey);
      saving.saveImage(entry, file);
    } catch {
      skipped.push(file.name);
    }
  }
  ui.setClassImages(entry.card, entry.urls);
  if (report) ui.dataError(skipped.length ? `Skipped ${skipped.join(', ')}: not an image this browser can read. The other images were added.` : '');
  checkBalance();
  return skipped;
}

function checkBalance() {
  const counts = state.classes.map((c) => c.files.length).filter((n) => n > 0);
  const [min, max] = [Math.min(...counts), Math.max(...counts)];
  ui.dataWarning(counts.length >= 2 && max > 3 * min
    ? `Classes are imbalanced (${min} to ${max} images); consider more images for the smaller classes.`
    : '');
}

/**
 * Adds the classes of a folder, zip or drop (`{ classes: Map<name, File[]>, skipped }`, from
 * class-folders.js) in one go: a class of the same name gets the images, others are created; the
 * empty classes the page started with give way. Says what was added and what was skipped.
 */
export async function addClassFolders({ classes, skipped }, source) {
  ui.dataError('');
  if (classes.size === 0) {
    ui.dataError(`${source} has no class folders with images. Give it one sub-folder per class, each holding that class's images (PNG, JPEG, WebP, GIF or BMP).`);
    return;
  }
  for (const entry of state.classes.filter((c) => c.files.length === 0 && /^Class \d+$/.test(c.name) && !classes.has(c.name))) {
    deleteClass(entry);
  }
  let images = 0;
  const unreadable = [];
  for (const [name, files] of classes) {
    const entry = state.classes.find((c) => c.name === name) ?? addClass(null, name);
    const before = entry.files.length;
    unreadable.push(...(await addFiles(entry, files, false)).map((f) => `${name}/${f} (not an image this browser can read)`));
    images += entry.files.length - before;
  }
  skipped = [...skipped, ...unreadable];
  const shown = skipped.slice(0, 5).join('; ');
  ui.folderStatus(`Added ${images} image${images === 1 ? '' : 's'} in ${classes.size} class${classes.size === 1 ? '' : 'es'} from ${source}.`
    + (skipped.length ? ` Skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'}: ${shown}${skipped.length > 5 ? '; …' : ''}.` : ''));
}

// A drop on a class card: its images go to that class; folders in it are folders of classes. The
// drop's items are read before anything is awaited (the browser empties them after the event).
function dropOnClass(entry, transfer) {
  const files = [...transfer.files];
  classesFromDrop(transfer).then((found) => (found ? addClassFolders(found, 'the dropped folder') : addFiles(entry, files)))
    .catch((e) => ui.dataError(`Could not read the dropped folder: ${e.message}`));
}

/** Wires the folder zone: the directory picker, a .zip, and folders dropped on it. */
export function setupClassFolders() {
  ui.onClassFolders({
    onPicker: (files) => addClassFolders(classesFromPicker(files), `"${files[0].webkitRelativePath.split('/')[0]}"`),
    onZip: (file) => classesFromZip(file).then((found) => addClassFolders(found, file.name), (e) => ui.dataError(e.message)),
    onDrop: (transfer) => {
      if (!state.client) { ui.dataError('Start a project first (1. Model), then drop its examples.'); return; }
      const files = [...transfer.files];
      classesFromDrop(transfer).then((found) => {
        if (found) return addClassFolders(found, 'the dropped folder');
        const zips = files.filter((f) => /\.zip$/i.test(f.name));
        if (zips.length) return classesFromZip(zips[0]).then((z) => addClassFolders(z, zips[0].name));
        ui.dataError('Drop a folder (one sub-folder per class) or a .zip of one here; drop single images on their class.');
      }).catch((e) => ui.dataError(e.message));
    },
  });
}
