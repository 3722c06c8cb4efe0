// The Advanced panel: every training option with its default and one line on what it does,
// generated from one table; recipes fill it; reading it checks every number and names the field.
const FIELDS = [
  { group: 'What trains' },
  { id: 'strategy', label: 'Strategy', type: 'select', def: 'feature_extraction',
    options: [['feature_extraction', 'Frozen backbone (head only)'], ['partial', 'Last N blocks'], ['gradual', 'Gradual unfreezing'], ['full', 'Whole backbone']],
    help: 'Frozen is fastest and safest with few examples; unfreezing adapts the backbone to your data.' },
  { id: 'trainable-blocks', label: 'Trainable blocks', type: 'int', min: 1, max: 64, def: 2, when: (v) => v.strategy === 'partial',
    help: 'How many of the last backbone blocks train (1–4 is typical).' },
  { id: 'every-epochs', label: 'Unfreeze every (epochs)', type: 'int', min: 1, max: 100, def: 2, when: (v) => v.strategy === 'gradual',
    help: 'One more block starts training every this many epochs, from the top down.' },
  { id: 'max-blocks', label: 'Unfreeze at most (blocks)', type: 'int', min: 1, max: 64, def: 4, when: (v) => v.strategy === 'gradual',
    help: 'Stop unfreezing after this many blocks.' },
  { group: 'Head' },
  { id: 'hidden', label: 'Hidden layers', type: 'text', def: '', help: 'Widths, comma-separated (e.g. 128 or 256,64); empty = a linear head.' },
  { id: 'activation', label: 'Activation', type: 'select', def: 'relu', options: [['relu', 'ReLU'], ['gelu', 'GELU']], help: 'Between hidden layers.' },
  { id: 'dropout', label: 'Dropout', type: 'number', min: 0, max: 0.95, def: 0, help: 'Randomly drops head inputs while training (0.1–0.5 fights overfitting).' },
  { id: 'head-fit', label: 'Fit the head', type: 'select', def: 'auto',
    options: [['auto', 'Automatic'], ['convex', 'Solve it (logistic regression)'], ['epochs', 'Epochs of batches']],
    help: 'A linear head on a frozen backbone is a logistic regression: Automatic solves it to its optimum (L-BFGS) where it applies, and trains by epochs otherwise.' },
  { id: 'convex-c', label: 'Regularisation C', type: 'number', min: 1e-6, max: 1e6, def: 1, when: (v) => v['head-fit'] !== 'epochs' || v['fine-tune-loss'] === 'contrastive',
    help: 'The solved head\'s inverse L2 strength (scikit-learn\'s C): smaller is smoother; 1 is scikit-learn\'s default.' },
  { id: 'head-init', label: 'Start the head', type: 'select', def: 'random', when: (v) => v.strategy !== 'feature_extraction' && !v.hidden.trim(),
    options: [['random', 'From random weights'], ['probe', 'Solved first (probe, then fine-tune)']],
    help: 'With blocks training under a linear head: "Solved first" fits the head on the frozen backbone as the first epoch, then fine-tunes under it (LP-FT); early stopping keeps it if fine-tuning never beats it.' },
  { id: 'fine-tune-loss', label: 'Blocks learn from', type: 'select', def: 'cross_entropy', when: (v) => v.strategy !== 'feature_extraction' && !v.hidden.trim(),
    options: [['cross_entropy', 'The head\'s errors (cross-entropy)'], ['contrastive', 'Pairs of examples (contrastive, SetFit)']],
    help: 'With few examples per class (text especially): "Pairs" trains the blocks to draw each class\'s examples together and apart from the others, and solves the linear head after every epoch; the first epoch is the frozen backbone\'s solved head (kept, with early stopping on, if no later epoch beats it).' },
  { id: 'text-features', label: 'Text features', type: 'select', def: 'auto', task: 'text', when: (v) => v.strategy === 'feature_extraction',
    options: [['auto', 'Automatic: every layer with 100+ texts a class (up to 10,000)'], ['every_layer', 'Every layer, side by side'], ['last_layer', 'The sentence embedding only']],
    help: 'What the head reads from a frozen encoder: each layer\'s mean word vector side by side keeps wording and style that the last layer drops (about 2 points better at 300 texts a class on the quality benchmark; mixed at 30), or the last layer\'s alone.' },
  { group: 'Optimiser' },
  { id: 'epochs', label: 'Epochs', type: 'int', min: 1, max: 200, def: 15, help: 'Passes over the data; 5–20 is typical, early stopping may end sooner.' },
  { id: 'lr', label: 'Learning rate', type: 'number', min: 1e-6, max: 1, def: 0.01, help: 'The head\'s rate: 0.01 for a frozen backbone, 0.001 when blocks train (the recipes set these).' },
  { id: 'batch', label: 'Batch size', type: 'int', min: 1, max: 256, def: 16, help: 'Examples per step; 8–32. Larger is faster per example and needs more memory.' },
  { id: 'accumulation', label: 'Accumulate batches', type: 'int', min: 1, max: 64, def: 1, help: 'One optimiser step every N batches: an N× larger effective batch.' },
  { id: 'optimizer', label: 'Optimiser', type: 'select', def: 'adamw', options: [['adamw', 'AdamW'], ['sgd', 'SGD']], help: 'AdamW adapts per weight; SGD with momentum is the classic.' },
  { id: 'momentum', label: 'Momentum', type: 'number', min: 0, max: 0.999, def: 0.9, when: (v) => v.optimizer === 'sgd', help: 'Fraction of the last update carried over.' },
  { id: 'nesterov', label: 'Nesterov', type: 'checkbox', def: false, when: (v) => v.optimizer === 'sgd', help: 'Look-ahead momentum.' },
  { id: 'weight-decay', label: 'Weight decay', type: 'number', min: 0, max: 1, def: 1e-4, help: 'Shrinks weights each step (not biases); 1e-4 to 1e-2.' },
  { id: 'schedule', label: 'Schedule', type: 'select', def: 'constant',
    options: [['constant', 'Constant'], ['cosine', 'Cosine decay'], ['step', 'Step decay'], ['exponential', 'Exponential decay']], help: 'How the learning rate changes over the run.' },
  { id: 'min-fraction', label: 'Cosine floor', type: 'number', min: 0, max: 1, def: 0.05, when: (v) => v.schedule === 'cosine', help: 'Final rate as a fraction of the start.' },
  { id: 'step-every', label: 'Decay every (epochs)', type: 'int', min: 1, max: 200, def: 5, when: (v) => v.schedule === 'step', help: 'Multiply the rate by gamma this often.' },
  { id: 'gamma', label: 'Gamma', type: 'number', min: 0.01, max: 1, def: 0.5, when: (v) => v.schedule === 'step' || v.schedule === 'exponential', help: 'Factor per decay.' },
  { id: 'warmup', label: 'Warm-up steps', type: 'int', min: 0, max: 100000, def: 0, help: 'Ramps the rate up from 0 over these steps; helps when blocks are unfrozen.' },
  { id: 'backbone-lr', label: 'Backbone rate ×', type: 'number', min: 1e-6, max: 1, def: 0.1, help: 'Backbone blocks learn at the head rate times this.' },
  { id: 'backbone-decay', label: 'Per-block decay ×', type: 'number', min: 1e-6, max: 1, def: 1, help: 'Each block further down learns this much slower again.' },
  { id: 'clip', label: 'Gradient clipping', type: 'select', def: 'none', options: [['none', 'None'], ['norm', 'Global norm'], ['value', 'Value']], help: 'Limits gradient size against unstable steps.' },
  { id: 'clip-value', label: 'Clip at', type: 'number', min: 1e-6, max: 1e6, def: 1, when: (v) => v.clip !== 'none', help: 'Maximum norm or value.' },
  { group: 'Regularisation and data' },
  { id: 'label-smoothing', label: 'Label smoothing', type: 'number', min: 0, max: 0.5, def: 0, help: 'Softens targets (0.05–0.1) so the model is less over-confident.' },
  { id: 'l2sp', label: 'L2-SP', type: 'number', min: 0, max: 10, def: 0, help: 'Pulls trained backbone weights toward the pretrained ones (0.001–0.1).' },
  { id: 'validation', label: 'Validation share', type: 'number', min: 0.05, max: 0.5, def: 0.2, help: 'Fraction of each class held out to measure the model honestly.' },
  { id: 'balance', label: 'Class balance', type: 'select', def: 'none',
    options: [['none', 'None'], ['weighted_loss', 'Weight the loss'], ['sampling', 'Balanced batches']], help: 'Counters classes with unequal numbers of examples.' },
  { id: 'flip', label: 'Flip images', type: 'checkbox', def: false, task: 'images', help: 'Random horizontal flips (not for text or digits).' },
  { id: 'crop', label: 'Random crops', type: 'checkbox', def: false, task: 'images', help: 'Random resized crops: the object at other sizes and places.' },
  { id: 'jitter', label: 'Colour jitter', type: 'number', min: 0, max: 0.5, def: 0, task: 'images', help: 'Random brightness/contrast/saturation change (0.1–0.3).' },
  { id: 'token-dropout', label: 'Word dropout', type: 'number', min: 0, max: 0.5, def: 0, task: 'text', help: 'Drops this share of words at random while training.' },
  { id: 'checkpointing', label: 'Gradient checkpointing', type: 'checkbox', def: false,
    help: 'Recomputes some activations in the backward pass to save memory; measured: about 1–8 % less memory here (README).' },
  { id: 'token-swap', label: 'Word swaps', type: 'number', min: 0, max: 0.5, def: 0, task: 'text', help: 'Swaps neighbouring words with this probability.' },
  { group: 'Stopping' },
  { id: 'early', label: 'Early stopping', type: 'checkbox', def: true, help: 'Stops when validation stops improving and keeps the best epoch.' },
  { id: 'monitor', label: 'Watch', type: 'select', def: 'loss', when: (v) => v.early,
    options: [['loss', 'Validation loss'], ['accuracy', 'Validation accuracy'], ['macro_f1', 'Macro F1']], help: 'The metric that decides the best epoch.' },
  { id: 'patience', label: 'Patience (epochs)', type: 'int', min: 1, max: 100, def: 5, when: (v) => v.early, help: 'Epochs without improvement before stopping.' },
  { id: 'divergence', label: 'Divergence factor', type: 'number', min: 1.5, max: 1e6, def: 20, help: 'Stops when the loss grows beyond this × its first value.' },
  { id: 'calibrate', label: 'Calibrate probabilities', type: 'checkbox', def: true,
    help: 'When training ends, one temperature fitted on the validation split scales the scores so that "90 %" is right about 9 times in 10 (no prediction changes).' },
  { id: 'top-k', label: 'Top-k', type: 'int', min: 1, max: 100, def: 3, help: 'Counts a prediction right if the class is among the k most likely.' },
  { id: 'seed', label: 'Seed', type: 'int', min: 0, max: 2 ** 32 - 1, def: 42, help: 'Same seed, same data split and same run.' },
];

export const RECIPES = {
  quick: { strategy: 'feature_extraction', lr: 0.01, hidden: '', dropout: 0, schedule: 'constant', warmup: 0, flip: false, crop: false },
  balanced: { strategy: 'partial', 'trainable-blocks': 2, lr: 0.001, hidden: '128', dropout: 0.2, schedule: 'constant', warmup: 0, flip: false, crop: false },
  thorough: { strategy: 'gradual', 'every-epochs': 2, 'max-blocks': 4, lr: 0.001, hidden: '256', dropout: 0.3, schedule: 'cosine', 'min-fraction': 0.05, warmup: 5, flip: true, crop: true },
  // Pairs need every example's features cached: no augmentation (the others' may be left on).
  contrastive: { strategy: 'full', lr: 2e-5, 'backbone-lr': 1, hidden: '', dropout: 0, 'fine-tune-loss': 'contrastive', 'head-fit': 'auto',
    batch: 16, epochs: 20, early: false, schedule: 'constant', warmup: 0, flip: false, crop: false, jitter: 0, 'token-dropout': 0, 'token-swap': 0 },
};
// Unless a recipe says otherwise, blocks learn from the head's errors at a tenth of its rate,
// for up to 15 epochs with early stopping (Contrastive says otherwise: SetFit's fixed budget).
for (const recipe of Object.values(RECIPES)) {
  recipe['fine-tune-loss'] ??= 'cross_entropy';
  recipe['backbone-lr'] ??= 0.1;
  recipe.epochs ??= 15;
  recipe.early ??= true;
}
// Auto compares recipes (each applied to these settings): the panel shows Quick's, its first.
RECIPES.auto = RECIPES.quick;

const input = (id) => document.getElementById(id);

function raw(field) {
  const el = input(field.id);
  return field.type === 'checkbox' ? el.checked : el.value;
}

function values() {
  return Object.fromEntries(FIELDS.filter((f) => f.id).map((f) => [f.id, raw(f)]));
}

/** Shows only the fields that apply (to the task and the other choices). */
function refresh(task) {
  const v = values();
  for (const f of FIELDS.filter((x) => x.id)) {
    const row = input(f.id).closest('.option');
    row.hidden = (f.task && f.task !== task) || (f.when ? !f.when(v) : false);
  }
}

/** Builds the panel into `container`. */
export function renderOptions(container) {
  const table = document.createElement('div');
  table.className = 'options';
  for (const f of FIELDS) {
    if (f.group) { const h = document.createElement('h3'); h.textContent = f.group; table.append(h); continue; }
    const row = document.createElement('div');
    row.className = 'option';
    const label = document.createElement('label');
    label.htmlFor = f.id;
    label.textContent = f.label;
    let el;
    if (f.type === 'select') {
      el = document.createElement('select');
      for (const [value, text] of f.options) el.append(new Option(text, value, value === f.def, value === f.def));
    } else {
      el = document.createElement('input');
      el.type = f.type === 'checkbox' ? 'checkbox' : f.type === 'text' ? 'text' : 'number';
      if (f.type === 'checkbox') el.checked = f.def;
      else el.value = String(f.def);
      if (f.type === 'int' || f.type === 'number') { el.min = String(f.min); el.max = String(f.max); el.step = f.type === 'int' ? '1' : 'any'; }
    }
    el.id = f.id;
    const help = document.createElement('small');
    help.id = `${f.id}-help`;
    help.textContent = `${f.help} Default: ${f.type === 'checkbox' ? (f.def ? 'on' : 'off') : f.type === 'select' ? f.options.find(([v]) => v === f.def)[1] : (f.def === '' ? 'none' : f.def)}.`;
    el.setAttribute('aria-describedby', help.id);
    row.append(label, el, help);
    table.append(row);
  }
  container.append(table);
  container.addEventListener('change', (e) => { touched.add(e.target.id); refresh(container.dataset.task); });
  refresh(container.dataset.task);
}

/** Shows the fields for `task` ('images' or 'text'). */
export function setOptionsTask(container, task) { container.dataset.task = task; refresh(task); }

// Fields the person changed since the last recipe filled the panel: their choice stands.
const touched = new Set();
const AUGMENT_FIELDS = ['flip', 'crop', 'jitter'];

/** Whether the image augmentation is still the recipe's (nobody changed it since). */
export function augmentIsRecipes() { return !AUGMENT_FIELDS.some((id) => touched.has(id)); }

/** Sets the image augmentation fields (`{ horizontal_flip, random_resized_crop, color_jitter }`). */
export function setAugment(container, augment) {
  input('flip').checked = Boolean(augment.horizontal_flip);
  input('crop').checked = Boolean(augment.random_resized_crop);
  input('jitter').value = String(augment.color_jitter ?? 0);
  refresh(container.dataset.task);
}

/** Fills the panel with a recipe's choices (other fields keep what the person set). */
export function applyRecipe(container, name) {
  touched.clear();
  for (const [id, value] of Object.entries(RECIPES[name])) {
    const el = input(id);
    if (el.type === 'checkbox') el.checked = value; else el.value = String(value);
  }
  refresh(container.dataset.task);
}

// One number, checked against its field's range; the error names the field and the range.
function number(id) {
  const f = FIELDS.find((x) => x.id === id);
  const text = raw(f).trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < f.min || n > f.max || (f.type === 'int' && !Number.isInteger(n))) {
    throw new Error(`${f.label} must be ${f.type === 'int' ? 'a whole number' : 'a number'} from ${f.min} to ${f.max}${text === '' ? ' (it is empty)' : `, not "${text}"`}.`);
  }
  return n;
}

/** The chosen settings as `{ config, augment, textAugment }`; throws an Error naming a bad field. */
export function readOptions(task) {
  const v = values();
  const hidden = v.hidden.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 8192) throw new Error(`Hidden layers must be whole numbers from 1 to 8192 separated by commas, not "${v.hidden}".`);
    return n;
  });
  const strategy = {
    feature_extraction: () => ({ kind: 'feature_extraction' }),
    partial: () => ({ kind: 'partial', trainable_blocks: number('trainable-blocks') }),
    gradual: () => ({ kind: 'gradual', every_epochs: number('every-epochs'), max_blocks: number('max-blocks') }),
    full: () => ({ kind: 'full' }),
  }[v.strategy]();
  const schedule = {
    constant: () => ({ kind: 'constant' }),
    cosine: () => ({ kind: 'cosine', min_fraction: number('min-fraction') }),
    step: () => ({ kind: 'step', every_epochs: number('step-every'), gamma: number('gamma') }),
    exponential: () => ({ kind: 'exponential', gamma: number('gamma') }),
  }[v.schedule]();
  const config = {
    strategy,
    head: { hidden, activation: v.activation, dropout: number('dropout') },
    optimizer: v.optimizer === 'sgd' ? { kind: 'sgd', momentum: number('momentum'), nesterov: v.nesterov } : { kind: 'adamw' },
    learning_rate: number('lr'),
    schedule,
    warmup_steps: number('warmup'),
    backbone_lr_multiplier: number('backbone-lr'),
    backbone_lr_decay: number('backbone-decay'),
    weight_decay: number('weight-decay'),
    grad_clip: v.clip === 'none' ? null : v.clip === 'norm' ? { kind: 'norm', max_norm: number('clip-value') } : { kind: 'value', value: number('clip-value') },
    batch_size: number('batch'),
    accumulation_steps: number('accumulation'),
    epochs: number('epochs'),
    label_smoothing: number('label-smoothing'),
    l2sp: number('l2sp'),
    validation_fraction: number('validation'),
    balance: v.balance,
    early_stopping: v.early ? { monitor: v.monitor, patience: number('patience') } : null,
    divergence_factor: number('divergence'),
    top_k: number('top-k'),
    seed: number('seed'),
    gradient_checkpointing: v.checkpointing,
    calibrate: v.calibrate,
    head_fit: v['head-fit'],
    convex_c: number('convex-c'),
    // Hidden from view with hidden layers (a probe needs a linear head): then random.
    head_init: hidden.length ? 'random' : v['head-init'],
    // Pairs need a linear head and blocks that train: otherwise cross-entropy.
    fine_tune_loss: hidden.length || v.strategy === 'feature_extraction' ? 'cross_entropy' : v['fine-tune-loss'],
    // Every layer needs a frozen encoder: with blocks training, auto takes the last layer.
    text_features: task === 'text' && v.strategy === 'feature_extraction' ? v['text-features'] : 'auto',
  };
  const augment = task === 'images' ? { horizontal_flip: v.flip, random_resized_crop: v.crop, color_jitter: number('jitter') } : {};
  const dropout = number('token-dropout');
  const swap = number('token-swap');
  const textAugment = task === 'text' && (dropout > 0 || swap > 0) ? { dropout, swap } : null;
  return { config, augment, textAugment };
}

/** Every field's current value by id (to save with a project). */
export function optionValues() { return values(); }

/** Restores values saved by `optionValues` (unknown ids are ignored). */
export function setOptionValues(container, saved) {
  for (const f of FIELDS.filter((x) => x.id && x.id in saved)) {
    const el = input(f.id);
    if (f.type === 'checkbox') el.checked = Boolean(saved[f.id]); else el.value = String(saved[f.id]);
  }
  refresh(container.dataset.task);
}
