// MobileNetV2 (torchvision layout, width 1.0) for TF.js: one list of block shapes drives both the
// tf.layers model and the multiply-add count, so the FLOP figures match what is timed.
// `tf` is the global the classic <script> tags define.

// torchvision's inverted-residual settings: expansion t, output channels c, repeats n, stride s.
const SETTINGS = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
  [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];
export const FEATURES = 1280;
export const IMAGE = 224;
// Fine-tuning trains the last this-many inverted-residual blocks, the final 1×1 conv and a
// dense head; everything before is frozen (and its activations cached, as kindling does).
export const TRAINABLE_IR_BLOCKS = 2;
export const FINETUNE_CLASSES = 4;

// The 19 blocks kindling also counts: stem conv, 17 inverted residuals, final 1×1 conv. Each
// carries its input side length, so shapes and MACs need no model.
function blocks() {
  const list = [{ kind: 'conv', cin: 3, cout: 32, k: 3, stride: 2, size: IMAGE }];
  let cin = 32;
  let size = IMAGE / 2;
  for (const [t, c, n, s] of SETTINGS) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      list.push({ kind: 'ir', cin, cout: c, t, stride, size });
      size = Math.ceil(size / stride);
      cin = c;
    }
  }
  list.push({ kind: 'conv', cin, cout: FEATURES, k: 1, stride: 1, size });
  return list;
}
export const BLOCKS = blocks();
/** Index in BLOCKS of the first trainable block (the final conv is the last block). */
export const FIRST_TRAINABLE = BLOCKS.length - 1 - TRAINABLE_IR_BLOCKS;

/** Multiply-adds of one block for one image (BatchNorm, ReLU6, adds: negligible, not counted). */
function blockMacs(b) {
  const out = Math.ceil(b.size / b.stride);
  if (b.kind === 'conv') return out * out * b.k * b.k * b.cin * b.cout;
  const hidden = b.cin * b.t;
  const expand = b.t === 1 ? 0 : b.size * b.size * b.cin * hidden;
  return expand + out * out * 9 * hidden + out * out * hidden * b.cout;
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** FLOP counts (2 per multiply-add) the runner divides by the measured times. */
export function flopCounts(batch) {
  const forwardMacs = sum(BLOCKS.map(blockMacs));
  const tailMacs = sum(BLOCKS.slice(FIRST_TRAINABLE).map(blockMacs)) + FEATURES * FINETUNE_CLASSES;
  return {
    features_macs_per_image: forwardMacs,
    features_flops_per_image: 2 * forwardMacs,
    finetune_forward_macs_per_image: tailMacs,
    // Backward costs about twice the forward (input and weight gradients): ≈ 3× forward per step.
    finetune_flops_per_step: 3 * 2 * tailMacs * batch,
    finetune_batch: batch,
  };
}

// Convolutions use 'same' padding: torchvision pads 3×3 convs by 1 on each side, TF pads
// stride-2 ones asymmetrically; output shapes and work are identical, values differ (random
// weights anyway).
function convBn(x, { cout, k, stride, depthwise = false, relu6 = true }) {
  const conv = depthwise
    ? tf.layers.depthwiseConv2d({ kernelSize: k, strides: stride, padding: 'same', useBias: false })
    : tf.layers.conv2d({ filters: cout, kernelSize: k, strides: stride, padding: 'same', useBias: false });
  const y = tf.layers.batchNormalization({ epsilon: 1e-5 }).apply(conv.apply(x));
  return relu6 ? tf.layers.reLU({ maxValue: 6 }).apply(y) : y;
}

function applyBlock(x, b) {
  if (b.kind === 'conv') return convBn(x, { cout: b.cout, k: b.k, stride: b.stride });
  const hidden = b.cin * b.t;
  let y = b.t === 1 ? x : convBn(x, { cout: hidden, k: 1, stride: 1 });
  y = convBn(y, { k: 3, stride: b.stride, depthwise: true });
  y = convBn(y, { cout: b.cout, k: 1, stride: 1, relu6: false });
  return b.stride === 1 && b.cin === b.cout ? tf.layers.add().apply([x, y]) : y;
}

/** Input shape [h, w, c] of block `i` (NHWC, batch left out). */
function inputShape(i) {
  const b = BLOCKS[i];
  return [b.size, b.size, b.cin];
}

/** The whole backbone: 224×224×3 image → 1280-d pooled features (random weights). */
export function featureModel() {
  const input = tf.input({ shape: inputShape(0) });
  const x = BLOCKS.reduce(applyBlock, input);
  return tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(x) });
}

/** The trainable tail: cached prefix activations → logits of FINETUNE_CLASSES classes. */
export function finetuneTail() {
  const input = tf.input({ shape: inputShape(FIRST_TRAINABLE) });
  const x = BLOCKS.slice(FIRST_TRAINABLE).reduce(applyBlock, input);
  const pooled = tf.layers.globalAveragePooling2d({}).apply(x);
  const logits = tf.layers.dense({ units: FINETUNE_CLASSES }).apply(pooled);
  return { model: tf.model({ inputs: input, outputs: logits }), inputShape: inputShape(FIRST_TRAINABLE) };
}
