// Folders as classes, as Keras' image_dataset_from_directory reads a folder: a folder whose
// sub-folders are the classes (each sub-folder's images, at any depth, are its class's), dropped,
// chosen with the directory picker, or zipped. Dropping class folders themselves (folders of
// images only) makes one class each. Files that are not images (by extension) are counted and
// skipped; so are images outside any class folder.
//
// The result is always `{ classes: Map<name, File[]>, skipped: string[] }`; image-classes.js
// turns it into class cards (decoding each image there, as for any added file).

/** Image types by extension: the File made from a zip entry needs one for the browser to decode it. */
const IMAGE_TYPES = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', bmp: 'image/bmp',
};
/** A .zip larger than this is refused before it is read (it is unpacked in memory). */
export const MAX_ZIP_BYTES = 1 << 30;
/** What its images may unpack to, in all: a small zip that claims gigabytes (a zip bomb) is refused before it is unpacked. */
export const MAX_UNZIPPED_BYTES = 2 ** 31;

const imageType = (name) => IMAGE_TYPES[name.split('.').pop()?.toLowerCase() ?? ''];
// Hidden files and folders (".DS_Store", "__MACOSX/…", "._photo.jpg") are the system's, not data.
const hidden = (parts) => parts.some((p) => p.startsWith('.') || p === '__MACOSX');

/**
 * Groups `[path, file]` pairs (paths with "/" between folders, the first part the chosen or dropped
 * folder) into classes: the second part names the class. A path of one folder and a file is an
 * image outside any class folder: skipped.
 */
export function classesFromPaths(entries) {
  const classes = new Map();
  const skipped = [];
  for (const [path, file] of entries) {
    const parts = path.split('/').filter(Boolean);
    if (hidden(parts)) continue;
    if (!imageType(parts.at(-1))) { skipped.push(`${path} (not an image: PNG, JPEG, WebP, GIF or BMP)`); continue; }
    if (parts.length < 3) { skipped.push(`${path} (not in a class folder)`); continue; }
    const name = parts[1].trim();
    if (!classes.has(name)) classes.set(name, []);
    classes.get(name).push(file);
  }
  // Classes in the order of their names (as Keras orders them), whatever order the files came in.
  const sorted = new Map([...classes].sort(([a], [b]) => a.localeCompare(b)));
  return { classes: sorted, skipped };
}

/** The directory picker's files (`<input webkitdirectory>`): their `webkitRelativePath` starts with the chosen folder. */
export function classesFromPicker(files) {
  return classesFromPaths([...files].map((f) => [f.webkitRelativePath || f.name, f]));
}

// Every file under a dropped directory entry, as [path from the entry, File] pairs.
async function walk(entry, path = entry.name) {
  if (entry.isFile) return [[path, await new Promise((resolve, reject) => entry.file(resolve, reject))]];
  const reader = entry.createReader();
  const children = [];
  // readEntries answers in batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map((c) => walk(c, `${path}/${c.name}`)));
  return nested.flat();
}

/**
 * A drop's folders, or null when it holds none (plain files go to the class they were dropped on).
 * A dropped folder with sub-folders is a folder of classes; one with images only is one class.
 */
export async function classesFromDrop(dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  const folders = entries.filter((e) => e.isDirectory);
  if (folders.length === 0) return null;
  const paths = [];
  for (const folder of folders) {
    const files = await walk(folder);
    const hasSubfolders = files.some(([path]) => path.split('/').length > 2);
    // A folder of images only is a class: it is given a parent so its name is the class's.
    paths.push(...files.map(([path, file]) => [hasSubfolders ? path : `drop/${path}`, file]));
  }
  return classesFromPaths(paths);
}

/**
 * A .zip of class folders: either the folders at its top, or one folder holding them (a zipped
 * folder). Read in memory with fflate (vendored by build.sh).
 */
export async function classesFromZip(file) {
  if (file.size > MAX_ZIP_BYTES) {
    throw new Error(`${file.name} is ${(file.size / 2 ** 30).toFixed(1)} GiB; a .zip of at most 1 GiB can be read in the page. Unzip it and drop the folder instead.`);
  }
  const { unzipSync } = await import('./vendor/fflate.js');
  const bytes = new Uint8Array(await file.arrayBuffer());
  let files;
  let unpacked = 0; // the sizes the entries kept so far say they unpack to
  const wanted = (f) => {
    if (f.name.endsWith('/') || hidden(f.name.split('/'))) return false;
    unpacked += f.originalSize;
    return unpacked <= MAX_UNZIPPED_BYTES;
  };
  try {
    // Synchronous: images are stored or barely deflated in a zip, so unpacking is mostly copying
    // (fflate's async path would start a Worker per large entry from a blob: URL).
    files = unzipSync(bytes, { filter: wanted });
  } catch (error) {
    throw new Error(`${file.name} could not be read as a .zip (${error.message}). Check that it is a zip file, or drop the unzipped folder.`);
  }
  if (unpacked > MAX_UNZIPPED_BYTES) {
    throw new Error(`${file.name} would unpack to more than ${MAX_UNZIPPED_BYTES / 2 ** 30} GiB; a page can hold that little at once. Unzip it and choose the folder instead.`);
  }
  const names = Object.keys(files);
  // A zipped folder of classes: every entry under one top folder, which holds folders (a zip of
  // one folder of images alone is one class, named after it).
  const tops = new Set(names.map((n) => n.split('/')[0]));
  const zippedFolder = tops.size === 1 && names.some((n) => n.split('/').length >= 3);
  const prefix = zippedFolder ? '' : `${file.name}/`;
  return classesFromPaths(names.map((name) => {
    const base = name.split('/').pop();
    return [prefix + name, new File([files[name]], base, { type: imageType(base) ?? '' })];
  }));
}
