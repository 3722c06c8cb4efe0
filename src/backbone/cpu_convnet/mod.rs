//! Inference of a ConvNet's leading blocks on host memory, for burn's CPU device.
//!
//! Why: on the CPU device the frozen backbone's forward pass is most of a run (feature
//! extraction, caching the frozen prefix, augmented batches, predictions), and burn flex makes
//! a pass over the activations per operation in NCHW. This path folds BatchNorm into the
//! weights once, keeps images channels-last, and applies bias and ReLU6 as each output tile is
//! stored (see `kernels`); in Chromium it is what lets the CPU device keep up with TF.js's
//! XNNPACK backend (README, Performance). Training still runs through burn: only blocks whose
//! weights do not change while the plan lives (a frozen prefix, or a finished model) belong here.

mod kernels;

use burn::tensor::Device;
use rayon::prelude::*;

use super::Activations;
use super::convnet::{ConvBn, ConvNet};
use super::host_matmul::{host_values, matmul_bias_act, pack_panels};
use kernels::{Window, depthwise, im2col, mean_pool};

/// What one layer computes.
#[derive(Clone, Debug)]
enum Op {
    /// 1×1, stride 1: a matrix product over pixels. Weights packed by `pack_panels`.
    Pointwise,
    /// k×k over all input channels: patches (`im2col`) times packed weights.
    Dense { kernel: usize, stride: usize },
    /// k×k per channel. Weights `[(ky·k + kx)·C + c]`.
    Depthwise { kernel: usize, stride: usize },
}

#[derive(Clone, Debug)]
struct Layer {
    op: Op,
    cin: usize,
    cout: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
    relu6: bool,
}

#[derive(Clone, Debug)]
struct Block {
    layers: Vec<Layer>,
    residual: bool,
}

/// Blocks `0..n` of a ConvNet with their weights copied out and folded. Build one with
/// [`CpuConvPlan::build`] and keep it while those blocks do not train.
#[derive(Clone, Debug)]
pub struct CpuConvPlan {
    blocks: Vec<Block>,
    /// Input images are `size × size`.
    size: usize,
    /// The plan ends at the network's last block: it returns pooled features.
    pooled: bool,
}

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch {
    spare: Vec<f32>,
    next: Vec<f32>,
    patches: Vec<f32>,
}

impl Layer {
    fn from_conv_bn(layer: &ConvBn) -> Option<Self> {
        let conv = &layer.conv;
        let [kh, kw] = conv.kernel_size;
        let [sh, sw] = conv.stride;
        if kh != kw || sh != sw || conv.dilation != [1, 1] {
            return None;
        }
        let (weight, bias) = layer.folded();
        let [cout, cin_per_group, k, _] = weight.dims();
        let groups = conv.groups;
        let cin = cin_per_group * groups;
        let w = host_values(weight)?;
        let bias = host_values(bias)?;
        let (op, weight) = if groups == 1 && k == 1 && sh == 1 {
            (Op::Pointwise, pack_panels(&w, cout, cin))
        } else if groups == 1 {
            // Reorder [cout][cin][ky][kx] to the patch order (ky, kx, cin).
            let row = k * k * cin;
            let mut khwc = vec![0.0; cout * row];
            for co in 0..cout {
                for ci in 0..cin {
                    for t in 0..k * k {
                        khwc[co * row + t * cin + ci] = w[(co * cin + ci) * k * k + t];
                    }
                }
            }
            let op = Op::Dense {
                kernel: k,
                stride: sh,
            };
            (op, pack_panels(&khwc, cout, row))
        } else if groups == cin && cin == cout && cin_per_group == 1 {
            let mut taps = vec![0.0; k * k * cout];
            for c in 0..cout {
                for t in 0..k * k {
                    taps[t * cout + c] = w[c * k * k + t];
                }
            }
            (
                Op::Depthwise {
                    kernel: k,
                    stride: sh,
                },
                taps,
            )
        } else {
            return None;
        };
        Some(Self {
            op,
            cin,
            cout,
            weight,
            bias,
            relu6: layer.has_relu6(),
        })
    }

    /// Applies the layer to an NHWC image `x` of `height × width × cin` into `out`; returns the
    /// output's height and width.
    fn apply(
        &self,
        x: &[f32],
        (height, width): (usize, usize),
        out: &mut Vec<f32>,
        patches: &mut Vec<f32>,
    ) -> (usize, usize) {
        // A 1×1 stride-1 window keeps the size, so one geometry serves every op.
        let (kernel, stride) = match self.op {
            Op::Pointwise => (1, 1),
            Op::Dense { kernel, stride } | Op::Depthwise { kernel, stride } => (kernel, stride),
        };
        let win = Window {
            height,
            width,
            kernel,
            stride,
        };
        let pixels = win.out_height() * win.out_width();
        out.resize(pixels * self.cout, 0.0);
        let (w, b, cout, relu6) = (&self.weight, &self.bias, self.cout, self.relu6);
        match self.op {
            Op::Pointwise => matmul_bias_act(x, pixels, self.cin, w, b, cout, relu6, out),
            Op::Dense { .. } => {
                im2col(x, self.cin, win, patches);
                let row = kernel * kernel * self.cin;
                matmul_bias_act(patches, pixels, row, w, b, cout, relu6, out);
            }
            Op::Depthwise { .. } => depthwise(x, self.cin, win, w, b, relu6, out),
        }
        (win.out_height(), win.out_width())
    }
}

impl CpuConvPlan {
    /// The plan for blocks `0..blocks` of `net`, or `None` when its weights cannot be read
    /// without waiting (not the CPU device) or a layer is of a kind the plan does not cover.
    pub fn build(net: &ConvNet, blocks: usize, size: usize) -> Option<Self> {
        let blocks_in = net.blocks.get(..blocks)?;
        let mut out = Vec::with_capacity(blocks);
        for block in blocks_in {
            let layers = block
                .layers
                .iter()
                .map(Layer::from_conv_bn)
                .collect::<Option<Vec<_>>>()?;
            out.push(Block {
                layers,
                residual: block.residual,
            });
        }
        Some(Self {
            blocks: out,
            size,
            pooled: blocks == net.blocks.len(),
        })
    }

    /// The output of one image given as NCHW `[3][size][size]` rows: pooled features, or the
    /// last block's activations in NCHW (as burn's path hands them on).
    fn run_image(&self, image: &[f32], scratch: &mut Scratch) -> (Vec<f32>, [usize; 3]) {
        let size = self.size;
        let channels = image.len() / (size * size);
        let mut x = transpose(image, channels, size * size);
        let (mut hw, mut c) = ((size, size), channels);
        for block in &self.blocks {
            let Some((first, rest)) = block.layers.split_first() else {
                continue;
            };
            // Layers alternate between two buffers; the block's input `x` stays for the residual.
            let mut y = core::mem::take(&mut scratch.spare);
            let mut other = core::mem::take(&mut scratch.next);
            let mut shape = first.apply(&x, hw, &mut y, &mut scratch.patches);
            for layer in rest {
                shape = layer.apply(&y, shape, &mut other, &mut scratch.patches);
                core::mem::swap(&mut y, &mut other);
            }
            scratch.next = other;
            if block.residual {
                kernels::add_in_place(&mut y, &x);
            }
            c = block.layers.last().map_or(c, |l| l.cout);
            hw = shape;
            scratch.spare = core::mem::replace(&mut x, y);
        }
        if self.pooled {
            let mut features = vec![0.0; c];
            mean_pool(&x, c, &mut features);
            (features, [c, 1, 1])
        } else {
            (transpose(&x, hw.0 * hw.1, c), [c, hw.0, hw.1])
        }
    }

    /// Runs `batch` NCHW images (flat `rows`, as `Backbone::input` takes them)
    /// and returns the activations on `device`: pooled features when the plan ends at the last
    /// block, else the last block's output.
    pub fn forward(&self, rows: &[f32], batch: usize, device: &Device) -> Activations {
        let (values, shape) = self.forward_host(rows, batch);
        Activations::from_host(values, batch, &shape, device)
    }

    /// The same activations in host memory: their values (example after example) and one
    /// example's shape (`[c]` pooled, else `[c, h, w]`), for a caller that collects them.
    pub fn forward_host(&self, rows: &[f32], batch: usize) -> (Vec<f32>, Vec<usize>) {
        // (At least 1: `chunks_exact(0)` would panic on an empty batch.)
        let per_image = (rows.len() / batch.max(1)).max(1);
        let (values, [c, h, w]) = self.run_images(rows, per_image, batch);
        let shape = if self.pooled { vec![c] } else { vec![c, h, w] };
        (values, shape)
    }

    /// The images are shared out over rayon's pool: every core natively and in the threaded wasm
    /// build, the calling thread alone in the one-thread wasm build. Each image is computed the
    /// same way whichever thread takes it, so the result does not depend on the thread count.
    fn run_images(&self, rows: &[f32], per_image: usize, batch: usize) -> (Vec<f32>, [usize; 3]) {
        let outputs: Vec<(Vec<f32>, [usize; 3])> = rows
            .par_chunks_exact(per_image)
            .take(batch)
            .map_init(Scratch::default, |scratch, image| {
                self.run_image(image, scratch)
            })
            .collect();
        let mut values = Vec::with_capacity(outputs.iter().map(|(v, _)| v.len()).sum());
        let mut shape = [0; 3];
        for (out, s) in outputs {
            values.extend_from_slice(&out);
            shape = s;
        }
        (values, shape)
    }
}

/// `x` as a `rows × cols` matrix, transposed: NCHW → NHWC is `transpose(x, C, H·W)`, and back
/// `transpose(x, H·W, C)`.
fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = x[r * cols + c];
        }
    }
    out
}
