// Types of the Worker client (client.js). The wasm API's own types are in pkg/kindling.d.ts.

/** The device in use, with the worker's build: `threads` run the CPU device (1 in the one-thread build). */
export interface DeviceInfo {
  kind: 'webgpu' | 'cpu'; description: string; reason: string;
  threads: number; build: 'threaded' | 'single'; threadsReason: string;
  /** `auto`'s choice by measurement, where it measured (or recalled the figures for this adapter). */
  measured?: { kind: 'webgpu' | 'cpu'; speeds: { kind: 'webgpu' | 'cpu'; ms_per_example: number }[]; remembered: boolean };
}
/** The worker's wasm build and thread count, and why (e.g. one thread: the page is not cross-origin isolated). */
export interface Runtime { threads: number; build: 'threaded' | 'single'; reason: string }

/** A backbone: images (`mobilenet_v2`, `efficientnet_lite0`), text (`bert`), or feature vectors. */
export type BackboneSpec =
  | { kind: 'mobilenet_v2' }
  | { kind: 'efficientnet_lite0' }
  | { kind: 'bert'; heads?: number; max_len?: number; normalize?: boolean }
  | { kind: 'features'; dim: number }
  | { kind: 'toy_mlp'; widths: number[] };

/** Every field optional; see the README's TrainConfig table for defaults and meaning. */
export interface TrainConfig {
  /** burn's gradient checkpointing (compute for memory; measured savings in the README). */
  gradient_checkpointing?: boolean;
  strategy?: { kind: 'feature_extraction' } | { kind: 'partial'; trainable_blocks: number }
    | { kind: 'gradual'; every_epochs: number; max_blocks?: number } | { kind: 'full' };
  head?: { hidden?: number[]; activation?: 'relu' | 'gelu'; dropout?: number };
  optimizer?: { kind: 'adamw'; beta1?: number; beta2?: number; epsilon?: number }
    | { kind: 'sgd'; momentum?: number; nesterov?: boolean };
  learning_rate?: number;
  schedule?: { kind: 'constant' } | { kind: 'step'; every_epochs: number; gamma: number }
    | { kind: 'exponential'; gamma: number } | { kind: 'cosine'; min_fraction?: number };
  warmup_steps?: number;
  backbone_lr_multiplier?: number;
  backbone_lr_decay?: number;
  weight_decay?: number;
  grad_clip?: { kind: 'norm'; max_norm: number } | { kind: 'value'; value: number } | null;
  batch_size?: number;
  accumulation_steps?: number;
  epochs?: number;
  label_smoothing?: number;
  l2sp?: number;
  validation_fraction?: number;
  balance?: 'none' | 'weighted_loss' | 'sampling';
  early_stopping?: { monitor?: 'loss' | 'accuracy' | 'macro_f1'; patience?: number; min_delta?: number } | null;
  divergence_factor?: number;
  top_k?: number;
  seed?: number;
  /** `auto` (default): a linear head on a frozen backbone is solved as the convex problem it is (L-BFGS); `epochs`: the optimiser over mini-batches. */
  head_fit?: 'auto' | 'epochs' | 'convex';
  /** The convex fit's inverse L2 strength, scikit-learn's C (default 1). */
  convex_c?: number;
  /** `random` (default), or `probe`: before blocks train, the linear head is solved on the frozen backbone as the first epoch (linear probing, then fine-tuning). Needs a linear head and no augmentation. */
  head_init?: 'random' | 'probe';
  /** `cross_entropy` (default): the blocks learn from the head's loss; `contrastive`: from pairs of training examples (one class: similar, two classes: dissimilar), the linear head solved after every epoch, the first epoch the frozen backbone's solved head (SetFit). Needs a linear head, blocks that train and no augmentation. */
  fine_tune_loss?: 'cross_entropy' | 'contrastive';
  /** Text backbones: what the head reads. `auto` (default): `every_layer` when the backbone stays frozen, every class has at least 100 examples and there are at most 10,000, else `last_layer`; `every_layer`: the mean token vector after the embeddings and after every layer, each of unit length, side by side (7 × 384 values for MiniLM; needs `strategy: feature_extraction`); `last_layer`: the sentence embedding. */
  text_features?: 'auto' | 'last_layer' | 'every_layer';
  /** Temperature scaling on the validation split when the run ends (default true). */
  calibrate?: boolean;
}

/** A GPU device lost mid-project: the browser's message, and the last checkpoint's epoch (0-based) or null. */
export interface DeviceLost {
  message: string;
  epoch: number | null;
}

export interface CreateOptions {
  backbone: BackboneSpec;
  /** `auto` (default): the faster device by measurement where a hardware WebGPU adapter exists (remembered per adapter), else the CPU. */
  device?: 'auto' | 'webgpu' | 'cpu';
  /** With `auto`: measure both devices even on a software adapter (which `auto` otherwise skips). */
  measure_devices?: boolean;
  /** Pretrained weights: bytes, or a URL the worker fetches (a relative URL is relative to the page). */
  weights?: Uint8Array | ArrayBuffer | { url: string };
  /** The text encoder's vocab.txt: its text, or a URL (a relative URL is relative to the page). */
  vocab?: string | { url: string };
  config?: TrainConfig;
  augment?: { random_resized_crop?: boolean; horizontal_flip?: boolean; color_jitter?: number };
  text_augment?: { dropout: number; swap: number };
}

export interface EpochReport {
  epoch: number; epochs: number;
  train_loss: number; train_accuracy: number;
  val_loss: number; val_accuracy: number; val_macro_f1: number; val_top_k_accuracy: number;
  learning_rate: number; block_learning_rates: number[]; trainable_blocks: number;
  examples_per_second: number; step_ms: number; epoch_seconds: number; elapsed_seconds: number; eta_seconds: number;
  /** Why training ended early and what was kept, on the last epoch of such a run. */
  stopped: string | null;
  /** kindling's memory in use at the end of the epoch (added by the worker). */
  memory?: MemoryInUse;
}

/** What became of a run's feature cache (see `train({ cache })` and `onCache`). */
export type CacheEvent =
  | { kind: 'computed'; bytes: Uint8Array }
  | { kind: 'reused' }
  | { kind: 'refused'; reason: string };

/** kindling's memory in use, as the worker measures it (bytes). */
export interface MemoryInUse {
  /** The wasm instance's memory (it grows and never shrinks). */
  wasmBytes: number;
  /** The worker's JS heap, where the browser tells (Chromium), else null. */
  jsHeapBytes: number | null;
  /** The current run's estimated peak (see MemoryEstimate), else null. */
  estimatedPeakBytes: number | null;
}

/** A run's estimated peak memory by what takes it (bytes); `start` refuses a run past what a tab holds. */
export interface MemoryEstimate {
  examples: number;
  frozen_blocks: number;
  trainable_blocks: number;
  cache_bytes: number;
  example_bytes: number;
  weights_bytes: number;
  optimizer_bytes: number;
  batch_bytes: number;
  total_bytes: number;
}

export interface ClassMetrics { precision: number; recall: number; f1: number; support: number }
export interface Evaluation {
  /** The epoch (0-based) whose weights were measured: the kept model's (best epoch, else the last completed); null before any. */
  epoch: number | null;
  loss: number; top_k: number; top_k_accuracy: number;
  report: { accuracy: number; per_class: ClassMetrics[]; macro_f1: number; weighted_f1: number; confusion: { counts: number[][] } };
  /** Validation examples by decreasing loss: likely mislabelled first. */
  hardest: { index: number; label: number; predicted: number; loss: number }[];
  /** The expected calibration error of these probabilities (15 bins). */
  expected_calibration_error: number;
  /** What temperature scaling did when the run ended (null before then, or when `calibrate` is off). */
  calibration: { temperature: number; applied: boolean; ece_before: number; ece_after: number; loss_before: number; loss_after: number } | null;
}

/** Classes (indices into `classes()`) by decreasing probability. */
export interface Prediction { classes: number[]; probabilities: number[] }

export interface ModelInfo {
  format: number; kindling_version: string; backbone: BackboneSpec; backbone_hash: string | null;
  classes: string[]; preprocess: unknown; config: TrainConfig;
  /** The temperature the logits are divided by (calibration); absent = 1. */
  temperature?: number;
}

/** What `sweep()` compares (see the README's "Experiments"). Fields are paths in the settings as JSON: `learning_rate`, `head.dropout`, `strategy`, `augment.horizontal_flip`; `recipe` applies a recipe first. */
export type SweepSpec =
  | { recipes: ('quick' | 'balanced' | 'thorough' | 'contrastive')[] }
  | { grid: Record<string, unknown[]> }
  | { random: { draws: number; seed?: number; fields: Record<string, { choice: unknown[] } | { uniform: [number, number] } | { log_uniform: [number, number] }> } }
  | { folds: { k: number; train_final?: boolean } }
  /** The Auto recipe: the recipes that suit the examples (Quick; Balanced too when every class has 20 or more). */
  | { auto: Record<string, never> };

/** Validation accuracy of the no-training baselines on the frozen backbone's features. */
export interface Baselines { nearest_centroid: number; knn: number; k: number }

/** One finished run of a sweep: the kept model's scores and what it cost. */
export interface SweepRow {
  entry: number; name: string;
  split: { kind: 'holdout' } | { kind: 'fold'; index: number } | { kind: 'all' };
  config: TrainConfig; augment: Record<string, unknown>;
  /** How a recipe's augmentation was adapted to the images (`profile` of `sweep()`), a sentence each; absent when unchanged. */
  notes?: string[];
  accuracy: number; macro_f1: number; loss: number;
  kept_epoch: number | null; epochs_run: number; stop_reason: unknown;
  /** The better baseline on the same split, and (accuracy − it) × 100. */
  baseline_accuracy: number | null; gain_points: number | null;
  seconds: number; seconds_per_epoch: number; step_ms: number;
  estimated_peak_bytes: number;
  /** The wasm memory's size when the row finished (it only grows: the sweep's high-water mark so far). */
  wasm_bytes?: number;
  /** The device the run trained on ('cpu' | 'webgpu'); on WebGPU its tensors are GPU buffers, counted by `estimated_peak_bytes` only. */
  device_kind?: string;
  cache_reused: boolean;
  /** One example, and per example in a batch of `latency_batch`, through the kept model (ms). */
  inference_ms: number; inference_ms_batched: number; latency_batch: number;
  model_bytes: number;
  history: EpochReport[];
  evaluation: Evaluation;
}

export interface CrossValidation {
  folds: { fold: number; loss: number; accuracy: number; macro_f1: number }[];
  accuracy_mean: number; accuracy_std: number; macro_f1_mean: number; macro_f1_std: number;
}

/** A sweep's results: rows in the order they ran, `ranking` best first (held-out rows only). */
export interface Leaderboard {
  spec: SweepSpec; planned: number; entries: { name: string; config: TrainConfig; split: SweepRow['split']; notes?: string[] }[];
  baselines: Baselines | null; rows: SweepRow[]; ranking: number[];
  crossValidation: CrossValidation | null; stopped: boolean; finished: boolean;
  /** An Auto sweep's plan: the recipes compared and why (its choice is `rows[ranking[0]]`). */
  auto: { recipes: string[]; why: string } | null;
}

export type SweepProgress =
  | { kind: 'planned'; entries: Leaderboard['entries'] }
  | { kind: 'baselines'; baselines: Baselines }
  | { kind: 'start'; entry: number; name: string }
  | { kind: 'epoch'; entry: number; report: EpochReport }
  | { kind: 'row'; row: SweepRow; model: Uint8Array };

/** What a restart or `restore()` brought back. */
export interface Restored {
  /** Requests replayed to rebuild the trainer. */
  examples: number;
  /** Epoch (0-based) of the checkpoint resumed, or null when there was none. */
  epoch: number | null;
  /** Whether that checkpoint ended its run (the model then predicts at once). */
  finished: boolean;
  /** Epoch reports of the resumed run so far. */
  history: EpochReport[];
  /** Why a saved checkpoint that no longer fits the examples was skipped (the saved model is imported instead), else null. */
  checkpointRefused?: string | null;
}

/** A request that built the trainer, as the journal keeps it (replayed by recovery and `restore()`). */
export interface JournalEntry { type: string; payload?: unknown }

/** What the worker sends after each epoch, and what a project keeps of it. */
export interface Checkpoint { bytes: Uint8Array; epoch: number; finished: boolean; history: EpochReport[] }

/** A project as saved in IndexedDB (store.js `loadProject`); absent parts are null or empty. */
export interface SavedProject {
  id: string;
  /** The app's description (the page's: name, task, classes, settings, history…); null for a client's own project. */
  meta: ({ id: string; name?: string; savedAt: number } & Record<string, unknown>) | null;
  /** The requests that rebuild the trainer, in order. */
  journal: JournalEntry[];
  checkpoint: Checkpoint | null;
  /** A trained model file, imported by `restore()` when there is no checkpoint. */
  model: Uint8Array | null;
  /** The person's own pretrained weights. */
  weights: Uint8Array | null;
  /** Image files the app keeps, per group (the page: per class id). */
  images: Map<string, Blob[]>;
  /** The last sweep's leaderboard, and its rows' model files by entry. */
  sweep: Leaderboard | null;
  sweepModels: Map<number, Uint8Array>;
}

export interface ClientOptions {
  /** The worker script (default: worker.js next to client.js, which bundlers pick up), relative to the page. */
  workerUrl?: URL | string;
  /** The one-thread build's `.wasm` (default: kindling_bg.wasm next to its JS), relative to the page. */
  wasmUrl?: URL | string;
  /** The threaded build's `.wasm` (default: threads/kindling_bg.wasm next to its JS), relative to the page. */
  threadsWasmUrl?: URL | string;
  /** The CPU device's threads, 1–64 (default `navigator.hardwareConcurrency`); more than one needs a cross-origin isolated page. */
  threads?: number;
  /** Save the requests that build the trainer and its checkpoints in IndexedDB under this name, as they happen; see `restore()`. */
  project?: string;
  /** Called when a crashed worker has been replaced and the project restored. */
  onRecover?: (info: Restored) => void;
  /** Called when the GPU device was lost: the project is rebuilt on the CPU device and a `train()` under way goes on from the last checkpoint (`epoch`, or null: it starts over). */
  onDeviceLost?: (lost: DeviceLost) => void;
  /** Called when saving failed (e.g. the storage quota is full); work in memory is kept. */
  onStorageError?: (error: Error) => void;
  /** While a run caches what its frozen backbone blocks compute (a chunk of examples per step). */
  onCaching?: (progress: { done: number; total: number; memory: MemoryInUse }) => void;
  /** A run's feature cache: computed (its file, for `train({ cache })` later), reused, or refused. */
  onCache?: (event: CacheEvent) => void;
}

/**
 * The Worker client. Requests are answered one at a time in the order they are sent; while a run
 * trains (or is paused), read-only requests (predict*, classes, classCounts, textColumns) are
 * answered between its steps unless another request waits before them. After `terminate()`/`dispose()`, or when a restarted worker fails again before the
 * project is restored, every request rejects at once with a message saying why.
 */
export class KindlingClient {
  /** A URL alone is taken as `workerUrl`. */
  constructor(options?: ClientOptions | URL | string);
  /** The current Worker (replaced after a crash). */
  readonly worker: Worker;
  /**
   * Resolves once the last worker restart has restored the project; rejects with why when it
   * could not (e.g. the new worker failed too: the client then takes no more requests).
   */
  readonly recovery: Promise<Restored | null>;
  /** The epoch (0-based) of the last checkpoint received, or null. */
  readonly checkpointEpoch: number | null;
  /** The last saving failure, or null. */
  storageError: Error | null;
  onRecover: ((info: Restored) => void) | null;
  onDeviceLost: ((lost: DeviceLost) => void) | null;
  /** Set once the GPU device was lost (the project has moved to the CPU device). */
  readonly deviceLost: DeviceLost | null;
  onStorageError: ((error: Error) => void) | null;
  onCaching: ((progress: { done: number; total: number; memory: MemoryInUse }) => void) | null;
  onCache: ((event: CacheEvent) => void) | null;

  create(options: CreateOptions): Promise<DeviceInfo>;
  setConfig(config: TrainConfig): Promise<void>;
  addClass(name: string): Promise<void>;
  /**
   * Images larger than 512 px on the short side (or 4096 px on the long one) are shrunk in the
   * worker before they are added; beyond 8192×8192 pixels they are skipped. `skipped[].index` is
   * the image's position in `images`.
   */
  addImageFiles(images: Iterable<Blob | ImageData | ImageBitmap>, className: string):
    Promise<{ added: number; skipped: { index: number; name: string; reason: string }[]; counts: { name: string; count: number }[] }>;
  addTexts(texts: string[], className: string): Promise<number>;
  addTextFile(file: Blob, options: { format: 'csv' | 'tsv' | 'jsonl'; text_column?: string | number; label_column?: string | number; header?: boolean }):
    Promise<{ added: number; skipped: { line: number; reason: string }[]; columns: string[]; counts: [string, number][] }>;
  addExamples(values: Float32Array, labels: Uint32Array, classes: string[]): Promise<number>;
  /** Column names of a CSV/TSV (header) or JSONL (first object's keys) file, read from its first 1 MB; needs no trainer. */
  textColumns(file: Blob, format: 'csv' | 'tsv' | 'jsonl'): Promise<string[]>;
  /** A recipe's augmentation adapted to the examples, with a sentence per change (README, Model quality). */
  adaptRecipe(name: 'quick' | 'balanced' | 'thorough' | 'contrastive', augment: CreateOptions['augment'],
    profile: { smallest_class: number; images: boolean; greyscale: boolean }): Promise<{ augment: CreateOptions['augment']; notes: string[] }>;
  /** `continue`: go on with an unfinished run; `checkpoints: false`: no per-epoch checkpoint. */
  train(options?: { signal?: AbortSignal; continue?: boolean; checkpoints?: boolean; cache?: Uint8Array | Blob | null }): AsyncGenerator<EpochReport, void, void>;
  /** Holds training after the current step; read-only requests are still answered. */
  pause(): void;
  /** Continues after `pause()`. */
  unpause(): void;
  /** @deprecated since 0.2: the old name of `unpause()`, kept for one release. */
  resume(): void;
  /** Ends the run after the current step (also a `train` request sent before and still waiting). */
  stop(): void;
  evaluate(): Promise<Evaluation>;
  /** `topK`: an integer from 1 to 1000 (default 3), for every predict* method. */
  predict(values: Float32Array, topK?: number): Promise<Prediction[]>;
  predictImageFile(image: Blob | ImageData | ImageBitmap, topK?: number): Promise<Prediction>;
  predictText(text: string, topK?: number): Promise<Prediction>;
  predictTexts(texts: string[], topK?: number): Promise<Prediction[]>;
  /** The texts of a text project's examples at `indices` (from an evaluation's `hardest`); "" for an example added as numbers. */
  exampleTexts(indices: Iterable<number>): Promise<string[]>;
  classes(): Promise<string[]>;
  classCounts(): Promise<{ name: string; count: number }[]>;
  /** kindling's memory in use now (answered between training steps). */
  memory(): Promise<MemoryInUse>;
  /** The current run's estimated peak memory, or null before a run. */
  memoryEstimate(): Promise<MemoryEstimate | null>;
  /** The worker's build and threads, and why. */
  runtime(): Promise<Runtime>;
  /** The device in use, as `create()` resolved to. */
  device(): Promise<DeviceInfo>;
  /** Restarts the worker with `threads` (null: one per core) and rebuilds the project in it; refused while a request runs. */
  setThreads(threads: number | null): Promise<Runtime>;
  /** Compares configurations on the same examples and split, against the no-training baselines; the project's model is unchanged until `useSweepRow`. */
  /** `profile`: what a recipe's augmentation adapts to, as for `adaptRecipe` (no flips for greyscale images). */
  sweep(spec: SweepSpec, options?: { signal?: AbortSignal; onProgress?: (message: SweepProgress) => void;
    profile?: { smallest_class: number; images: boolean; greyscale: boolean } }): Promise<Leaderboard>;
  /** The last sweep's leaderboard (this session's or the saved project's), or null. */
  sweepResults(): Leaderboard | null;
  /** The model file of the last sweep's row for `entry`. */
  sweepModel(entry: number): Uint8Array;
  /** Makes a sweep row the project's model. */
  useSweepRow(entry: number): Promise<ModelInfo>;
  /** The current run's baselines once its features are cached; null while caching or when backbone blocks train. */
  baselines(): Promise<Baselines | null>;
  /** `precision: 'f16'` halves the file (probabilities within 5e-3 of f32). */
  exportModel(options?: { precision?: 'f32' | 'f16' }): Promise<Uint8Array>;
  importModel(bytes: Uint8Array): Promise<ModelInfo>;
  /**
   * Brings back a saved project (default: this client's `project`; or a name, or a record read
   * with store.js `loadProject`): replays its journal, then resumes its checkpoint or, without
   * one, imports its saved model. A journal that does not begin with `create` goes on the trainer
   * this client already has. Null if nothing is saved. `model`: the imported model's description.
   */
  restore(project?: string | SavedProject): Promise<(Restored & { entries: JournalEntry[]; model: ModelInfo | null }) | null>;
  /** Resolves when every change so far is written (or failed: see `storageError`). */
  saved(): Promise<void>;
  /** Deletes the saved project (every record under this client's `project`). */
  forget(): Promise<void>;
  /** Ends the worker and rejects what is pending; later requests reject at once. */
  terminate(): void;
  /** Same as `terminate()`. */
  dispose(): void;
}
