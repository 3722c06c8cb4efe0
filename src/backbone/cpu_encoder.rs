//! Inference of a whole frozen BERT encoder (MiniLM) on host memory, for burn's CPU device.
//!
//! Why: embedding texts — the frozen encoder's features that the Quick recipe trains on, and
//! every prediction — is most of a text project's time on the CPU device, and burn flex makes a
//! pass over memory per operation (each bias, the GELU, the softmax, each LayerNorm's mean and
//! variance) over every token of a batch padded to its longest text. This path runs each text on
//! one thread over its own tokens only, applies the biases as the matrix products store their
//! tiles (`host_matmul`), fuses GELU into the product's output and the residual add into
//! LayerNorm, and shares the texts out over rayon's pool (every core natively and in the
//! threaded wasm build). It was written for issue 15's embedding goal, where ONNX Runtime Web
//! fuses the same steps (README, Threads). Blocks that train run through burn.

use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rayon::prelude::*;

use super::Activations;
use super::bert::{Bert, LayerNorm};
use super::host_matmul::{host_values, matmul_bias_act, pack_panels};

/// LayerNorm's ε in all-MiniLM-L6-v2 (and `bert`'s burn path).
const LN_EPS: f32 = 1e-12;

/// A LayerNorm's scale and shift.
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn read(norm: &LayerNorm) -> Option<Self> {
        Some(Self {
            gamma: host_values(norm.gamma.val())?,
            beta: host_values(norm.beta.val())?,
        })
    }

    /// `x ← LayerNorm(x + residual)` row by row (`residual` may be empty: no add).
    fn apply(&self, x: &mut [f32], residual: &[f32]) {
        let width = self.gamma.len();
        for (t, row) in x.chunks_exact_mut(width).enumerate() {
            if let Some(r) = residual.get(t * width..(t + 1) * width) {
                for (v, r) in row.iter_mut().zip(r) {
                    *v += r;
                }
            }
            let mean = row.iter().sum::<f32>() / width as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let scale = 1.0 / (var + LN_EPS).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = (*v - mean) * scale * g + b;
            }
        }
    }
}

/// A dense layer (or several with one input, their outputs side by side), packed for
/// `matmul_bias_act`.
struct Dense {
    packed: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
}

impl Dense {
    /// From burn `Linear`s (weights `[input, output]`) that share their input.
    fn read(linears: &[&Linear]) -> Option<Self> {
        let mut rows = Vec::new(); // [output][input]
        let mut bias = Vec::new();
        let mut input = 0;
        for linear in linears {
            let [i, o] = linear.weight.val().dims();
            let w = host_values(linear.weight.val())?;
            for c in 0..o {
                rows.extend((0..i).map(|r| w[r * o + c]));
            }
            bias.extend(host_values(linear.bias.as_ref()?.val())?);
            input = i;
        }
        Some(Self {
            packed: pack_panels(&rows, bias.len(), input),
            bias,
            input,
        })
    }

    fn apply(&self, x: &[f32], tokens: usize, out: &mut Vec<f32>) {
        let output = self.bias.len();
        out.resize(tokens * output, 0.0);
        matmul_bias_act(
            x,
            tokens,
            self.input,
            &self.packed,
            &self.bias,
            output,
            false,
            out,
        );
    }
}

struct Layer {
    /// Query, key and value side by side: `[tokens, 3·hidden]`.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
    heads: usize,
}

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch {
    qkv: Vec<f32>,
    context: Vec<f32>,
    attended: Vec<f32>,
    wide: Vec<f32>,
    scores: Vec<f32>,
    /// One head's queries (scaled), keys, values transposed, and output.
    q: Vec<f32>,
    k: Vec<f32>,
    vt: Vec<f32>,
    head: Vec<f32>,
}

/// GELU as burn computes it: x·Φ(x) = x/2 · (1 + erf(x/√2)).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2))
}

impl Layer {
    /// One layer over a text's `tokens × hidden` states `x`, in place.
    fn apply(&self, x: &mut Vec<f32>, tokens: usize, s: &mut Scratch) {
        let hidden = self.attention_norm.gamma.len();
        let d = hidden / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        self.qkv.apply(x, tokens, &mut s.qkv);
        s.context.resize(tokens * hidden, 0.0);
        let row = 3 * hidden;
        let zeros = vec![0.0; tokens.max(d)];
        for h in 0..self.heads {
            // Each head's products run on the same tiles as the dense layers: scores = (Q/√d)·Kᵀ
            // with K as the "weights", then context = softmax(scores)·V with Vᵀ as them.
            s.q.clear();
            s.k.clear();
            s.vt.clear();
            s.vt.resize(d * tokens, 0.0);
            for t in 0..tokens {
                let at = &s.qkv[t * row..(t + 1) * row];
                s.q.extend(at[h * d..(h + 1) * d].iter().map(|v| v * scale));
                s.k.extend_from_slice(&at[hidden + h * d..hidden + (h + 1) * d]);
                for (c, v) in at[2 * hidden + h * d..2 * hidden + (h + 1) * d]
                    .iter()
                    .enumerate()
                {
                    s.vt[c * tokens + t] = *v;
                }
            }
            s.scores.resize(tokens * tokens, 0.0);
            let keys = pack_panels(&s.k, tokens, d);
            matmul_bias_act(
                &s.q,
                tokens,
                d,
                &keys,
                &zeros[..tokens],
                tokens,
                false,
                &mut s.scores,
            );
            for scores in s.scores.chunks_exact_mut(tokens) {
                let max = scores.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let mut sum = 0.0;
                for v in scores.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                let inverse = 1.0 / sum;
                for v in scores.iter_mut() {
                    *v *= inverse;
                }
            }
            let values = pack_panels(&s.vt, d, tokens);
            s.head.resize(tokens * d, 0.0);
            matmul_bias_act(
                &s.scores,
                tokens,
                tokens,
                &values,
                &zeros[..d],
                d,
                false,
                &mut s.head,
            );
            for (t, out) in s.head.chunks_exact(d).enumerate() {
                s.context[t * hidden + h * d..t * hidden + (h + 1) * d].copy_from_slice(out);
            }
        }
        self.attention_out
            .apply(&s.context, tokens, &mut s.attended);
        self.attention_norm.apply(&mut s.attended, x);
        self.intermediate.apply(&s.attended, tokens, &mut s.wide);
        for v in s.wide.iter_mut() {
            *v = gelu(*v);
        }
        self.output.apply(&s.wide, tokens, x);
        self.output_norm.apply(x, &s.attended);
    }
}

/// The encoder of a [`Bert`] with its layers' weights copied out and packed: the whole network
/// up to the pooled (and normalised) sentence embedding. Build one with [`CpuEncoderPlan::build`]
/// and keep it while the encoder does not train.
pub struct CpuEncoderPlan {
    /// The word embedding table, still burn's (30,522 × 384 floats are not copied: each batch's
    /// rows are gathered from it).
    words: Tensor<2>,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    max_len: usize,
    normalize: bool,
    /// Every layer pooled, as the encoder it was built from (`Bert::pools_every_layer`).
    every_layer: bool,
}

impl CpuEncoderPlan {
    /// The plan for the whole of `net`, or `None` when its weights cannot be read without
    /// waiting (not the CPU device).
    pub fn build(net: &Bert) -> Option<Self> {
        let hidden = net.hidden();
        let layers = net
            .blocks
            .iter()
            .map(|layer| {
                Some(Layer {
                    qkv: Dense::read(&[&layer.query, &layer.key, &layer.value])?,
                    attention_out: Dense::read(&[&layer.attention_out])?,
                    attention_norm: Norm::read(&layer.attention_norm)?,
                    intermediate: Dense::read(&[&layer.intermediate])?,
                    output: Dense::read(&[&layer.output])?,
                    output_norm: Norm::read(&layer.output_norm)?,
                    heads: layer.heads(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let positions = host_values(net.embeddings.positions.val())?;
        let types = host_values(net.embeddings.token_types.val())?;
        Some(Self {
            words: net.embeddings.words.val(),
            positions,
            token_type: types.get(..hidden)?.to_vec(),
            embedding_norm: Norm::read(&net.embeddings.norm)?,
            layers,
            hidden,
            max_len: net.max_len(),
            normalize: net.normalizes(),
            every_layer: net.pools_every_layer(),
        })
    }

    /// The sentence embeddings of `batch` texts given as rows (`max_len` token ids, then
    /// `max_len` mask values, as `Backbone::input` takes them), on `device`.
    pub fn forward(&self, rows: &[f32], batch: usize, device: &Device) -> Activations {
        let (values, shape) = self.forward_host(rows, batch);
        Activations::from_host(values, batch, &shape, device)
    }

    /// The same embeddings in host memory, example after example, and one example's shape.
    pub fn forward_host(&self, rows: &[f32], batch: usize) -> (Vec<f32>, Vec<usize>) {
        let per_text = 2 * self.max_len;
        let texts: Vec<&[f32]> = rows.chunks_exact(per_text).take(batch).collect();
        // Each text's real tokens (mask 1) with their positions; their word vectors gathered
        // from burn's table in one operation. A text with an id outside the table (which the
        // tokenizer never gives) gathers nothing, and its embedding is zeros.
        let vocab = self.words.dims()[0];
        let tokens: Vec<Vec<(usize, usize)>> = texts
            .iter()
            .map(|row| {
                let (ids, mask) = row.split_at(self.max_len);
                ids.iter()
                    .zip(mask)
                    .enumerate()
                    .filter(|(_, (_, m))| **m > 0.5)
                    .map(|(position, (id, _))| (position, *id as usize))
                    .collect::<Vec<_>>()
            })
            .map(|text| match text.iter().all(|&(_, id)| id < vocab) {
                true => text,
                false => Vec::new(),
            })
            .collect();
        let ids: Vec<i64> = tokens.iter().flatten().map(|&(_, id)| id as i64).collect();
        let words = match ids.len() {
            0 => Vec::new(),
            n => {
                let index =
                    Tensor::<1, Int>::from_data(TensorData::new(ids, [n]), &self.words.device());
                host_values(self.words.clone().select(0, index)).unwrap_or_default()
            }
        };
        let h = self.hidden;
        let mut starts = Vec::with_capacity(tokens.len());
        let mut start = 0;
        for text in &tokens {
            starts.push(start);
            start += text.len();
        }
        let layers = Layers {
            positions: &self.positions,
            token_type: &self.token_type,
            embedding_norm: &self.embedding_norm,
            layers: &self.layers,
            hidden: h,
            normalize: self.normalize,
            every_layer: self.every_layer,
        };
        let outputs: Vec<Vec<f32>> = tokens
            .par_iter()
            .zip(starts)
            .map_init(Scratch::default, |scratch, (text, start)| {
                let vectors = words
                    .get(start * h..(start + text.len()) * h)
                    .unwrap_or(&[]);
                layers.embed_text(text, vectors, scratch)
            })
            .collect();
        let width = match self.every_layer {
            true => h * (self.layers.len() + 1),
            false => h,
        };
        (outputs.concat(), vec![width])
    }
}

/// What each thread reads: the host copies of the plan (the burn table stays on the caller's
/// thread).
struct Layers<'a> {
    positions: &'a [f32],
    token_type: &'a [f32],
    embedding_norm: &'a Norm,
    layers: &'a [Layer],
    hidden: usize,
    normalize: bool,
    every_layer: bool,
}

impl Layers<'_> {
    /// One text's sentence embedding from its tokens `(position, id)` and their word vectors:
    /// the last layer's mean token vector, or with `every_layer` the mean after the embeddings
    /// and after every layer, each of unit length, side by side (as `Bert::forward_blocks`).
    fn embed_text(&self, tokens: &[(usize, usize)], words: &[f32], s: &mut Scratch) -> Vec<f32> {
        let h = self.hidden;
        let n = tokens.len();
        let width = match self.every_layer {
            true => h * (self.layers.len() + 1),
            false => h,
        };
        if n == 0 || words.len() != n * h {
            // No real token (or no vectors: an id outside the table): as burn's pooling, zeros.
            return vec![0.0; width];
        }
        let mut x = words.to_vec();
        for (t, &(position, _)) in tokens.iter().enumerate() {
            let row = &mut x[t * h..(t + 1) * h];
            let at = self.positions.get(position * h..(position + 1) * h);
            for ((v, p), k) in row.iter_mut().zip(at.unwrap_or(&[])).zip(self.token_type) {
                *v += p + k;
            }
        }
        self.embedding_norm.apply(&mut x, &[]);
        let mut features = Vec::with_capacity(width);
        if self.every_layer {
            features.extend(mean_token(&x, h, n, true));
        }
        for layer in self.layers {
            layer.apply(&mut x, n, s);
            if self.every_layer {
                features.extend(mean_token(&x, h, n, true));
            }
        }
        if !self.every_layer {
            features = mean_token(&x, h, n, self.normalize);
        }
        features
    }
}

/// The mean of `n` token vectors of width `h`, scaled to unit length when `unit`.
fn mean_token(x: &[f32], h: usize, n: usize, unit: bool) -> Vec<f32> {
    let mut pooled = vec![0.0f32; h];
    for row in x.chunks_exact(h) {
        for (p, v) in pooled.iter_mut().zip(row) {
            *p += v;
        }
    }
    for p in pooled.iter_mut() {
        *p /= n as f32;
    }
    if unit {
        let norm = pooled.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        for p in pooled.iter_mut() {
            *p /= norm;
        }
    }
    pooled
}
