// Types of the Worker client (client.js). The wasm API's own types are in pkg/kindling.d.ts.

/** The device in use. */
export interface DeviceInfo { kind: 'webgpu' | 'cpu'; description: string; reason: string }

/** A backbone: images (`mobilenet_v2`, `efficientnet_lite0`), text (`bert`), or feature vectors. */
export type BackboneSpec =
  | { kind: 'mobilenet_v2' }
  | { kind: 'efficientnet_lite0' }
  | { kind: 'bert'; heads?: number; max_len?: number; normalize?: boolean }
  | { kind: 'features'; dim: number }
  | { kind: 'toy_mlp'; widths: number[] };

/** Every field optional; see the README's TrainConfig table for defaults and meaning. */
export interface TrainConfig {
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
}

export interface CreateOptions {
  backbone: BackboneSpec;
  device?: 'auto' | 'webgpu' | 'cpu';
  /** Pretrained weights: bytes, or a URL the worker fetches. */
  weights?: Uint8Array | ArrayBuffer | { url: string };
  /** The text encoder's vocab.txt: its text, or a URL. */
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
}

export interface ClassMetrics { precision: number; recall: number; f1: number; support: number }
export interface Evaluation {
  loss: number; top_k: number; top_k_accuracy: number;
  report: { accuracy: number; per_class: ClassMetrics[]; macro_f1: number; weighted_f1: number; confusion: { counts: number[][] } };
  /** Validation examples by decreasing loss: likely mislabelled first. */
  hardest: { index: number; label: number; predicted: number; loss: number }[];
}

/** Classes (indices into `classes()`) by decreasing probability. */
export interface Prediction { classes: number[]; probabilities: number[] }

export interface ModelInfo {
  format: number; kindling_version: string; backbone: BackboneSpec; backbone_hash: string | null;
  classes: string[]; preprocess: unknown; config: TrainConfig;
}

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
}

export interface ClientOptions {
  /** The worker script (default: worker.js next to client.js). */
  workerUrl?: URL | string;
  /** Save the project in IndexedDB under this name as it is built and trained; see `restore()`. */
  project?: string;
  /** Called when a crashed worker has been replaced and the project restored. */
  onRecover?: (info: Restored) => void;
  /** Called when saving failed (e.g. the storage quota is full); work in memory is kept. */
  onStorageError?: (error: Error) => void;
}

export class KindlingClient {
  /** A URL alone is taken as `workerUrl`. */
  constructor(options?: ClientOptions | URL | string);
  /** The current Worker (replaced after a crash). */
  readonly worker: Worker;
  /** Resolves once the last worker restart has restored the project. */
  readonly recovery: Promise<Restored | null>;
  /** The epoch (0-based) of the last checkpoint received, or null. */
  readonly checkpointEpoch: number | null;
  /** The last saving failure, or null. */
  storageError: Error | null;
  onRecover: ((info: Restored) => void) | null;
  onStorageError: ((error: Error) => void) | null;

  create(options: CreateOptions): Promise<DeviceInfo>;
  setConfig(config: TrainConfig): Promise<void>;
  addClass(name: string): Promise<void>;
  addImageFiles(images: Iterable<Blob | ImageData | ImageBitmap>, className: string):
    Promise<{ added: number; skipped: { name: string; reason: string }[]; counts: { name: string; count: number }[] }>;
  addTexts(texts: string[], className: string): Promise<number>;
  addTextFile(file: Blob, options: { format: 'csv' | 'tsv' | 'jsonl'; text_column?: string | number; label_column?: string | number; header?: boolean }):
    Promise<{ added: number; skipped: { line: number; reason: string }[]; columns: string[]; counts: [string, number][] }>;
  addExamples(values: Float32Array, labels: Uint32Array, classes: string[]): Promise<number>;
  /** `continue`: go on with an unfinished run; `checkpoints: false`: no per-epoch checkpoint. */
  train(options?: { signal?: AbortSignal; continue?: boolean; checkpoints?: boolean }): AsyncGenerator<EpochReport, void, void>;
  pause(): void;
  resume(): void;
  stop(): void;
  evaluate(): Promise<Evaluation>;
  predict(values: Float32Array, topK?: number): Promise<Prediction[]>;
  predictImageFile(image: Blob | ImageData | ImageBitmap, topK?: number): Promise<Prediction>;
  predictText(text: string, topK?: number): Promise<Prediction>;
  predictTexts(texts: string[], topK?: number): Promise<Prediction[]>;
  classes(): Promise<string[]>;
  classCounts(): Promise<{ name: string; count: number }[]>;
  exportModel(): Promise<Uint8Array>;
  importModel(bytes: Uint8Array): Promise<ModelInfo>;
  /** Rebuilds the trainer saved under `project` and resumes its checkpoint; null if nothing is saved. */
  restore(): Promise<(Restored & { entries: { type: string; payload: unknown }[] }) | null>;
  /** Resolves when every change so far is written (or failed: see `storageError`). */
  saved(): Promise<void>;
  /** Deletes the saved project. */
  forget(): Promise<void>;
  terminate(): void;
  dispose(): void;
}
