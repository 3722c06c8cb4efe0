// The requests about a project's examples, settings and model that go to the worker as they
// are, one method each: the base of KindlingClient (client.js), which sends them (`request`)
// and adds what needs more than one message — creating, training, sweeps, recovery.
export class ProjectRequests {
  /** Replaces the training settings for the next run (validated in the worker). */
  setConfig(config) { return this.request('setConfig', { config }); }

  /** Declares a class (so an empty one is reported rather than forgotten). */
  addClass(name) { return this.request('addClass', { name }); }

  /**
   * Adds images to `className`: files or blobs (PNG, JPEG, WebP, GIF, BMP), `ImageData` or
   * `ImageBitmap`, decoded in the worker. Unreadable ones are skipped and listed with the reason;
   * resolves to `{ added, skipped: [{name, reason}], counts: [{name, count}] }`.
   */
  addImageFiles(images, className) { return this.request('addImageFiles', { files: [...images], className }); }

  /** Top-k prediction for one image (file, blob, ImageData or ImageBitmap): `{ classes, probabilities }`. */
  predictImageFile(image, topK = 3) { return this.request('predictImageFile', { file: image, topK }); }

  /** Adds texts (strings) to `className`; resolves to the example count. */
  addTexts(texts, className) { return this.request('addTexts', { texts, className }); }

  /**
   * Loads labelled texts from a CSV/TSV/JSONL File. `options = { format, text_column?,
   * label_column?, header? }`. Resolves to `{ added, skipped: [{line, reason}], columns, counts }`.
   */
  addTextFile(file, options) { return this.request('addTextFile', { file, options }); }

  /** Top-k prediction for one text. */
  predictText(text, topK = 3) { return this.request('predictText', { text, topK }); }

  /** Top-k prediction for each of `texts` (one batch). */
  predictTexts(texts, topK = 3) { return this.request('predictTexts', { texts, topK }); }

  /**
   * The texts of a text project's examples at `indices` (an evaluation's `hardest` carry them), in
   * that order; "" for an example added as numbers.
   */
  exampleTexts(indices) { return this.request('exampleTexts', { indices: [...indices] }); }

  /**
   * The column names of a labelled text File (`format`: 'csv' | 'tsv' | 'jsonl'): a CSV/TSV
   * header, or the keys of the first JSON object, read by kindling from the file's first 1 MB.
   * Needs no trainer; rejects with what is wrong with the file.
   */
  textColumns(file, format) { return this.request('textColumns', { file, format }); }

  /**
   * Recipe `name`'s augmentation `augment` adapted to the examples (`profile`: `{ smallest_class,
   * images, greyscale }`): `{ augment, notes }`, a sentence per change (no flips for greyscale
   * images, colour jitter for few colour images). Needs no trainer.
   */
  adaptRecipe(name, augment, profile) { return this.request('adaptRecipe', { name, augment, profile }); }

  /** Full evaluation on the validation set (per-class metrics, confusion matrix, hardest examples). */
  evaluate() { return this.request('evaluate'); }

  /**
   * The trained model as one file's bytes (Uint8Array). `{ precision: 'f16' }` stores the weights
   * in half precision: half the file, probabilities within 5e-3 of the f32 file's (README).
   */
  exportModel(options = {}) { return this.request('exportModel', { options }); }

  /** Loads a model file; resolves to its description. */
  importModel(bytes) { return this.request('importModel', { bytes }); }

  /** Class names in label order. */
  classes() { return this.request('classes'); }

  /** Examples per class: `[{ name, count }]`. */
  classCounts() { return this.request('classCounts'); }

  /** kindling's memory in use: `{ wasmBytes, jsHeapBytes, estimatedPeakBytes }` (bytes). */
  memory() { return this.request('memory'); }

  /** The current run's estimated peak memory by what takes it (bytes), or null before a run. */
  memoryEstimate() { return this.request('memoryEstimate'); }

  /** Adds examples (rows of `values`, labels indexing `classes`); resolves to the example count. */
  addExamples(values, labels, classes) { return this.request('addExamples', { values, labels, classes }); }
}
