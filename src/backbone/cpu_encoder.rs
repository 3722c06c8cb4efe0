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

use burn::tensor::{Device, Int, Tensor, TensorData};
use rayon::prelude::*;

use super::Activations;
use super::bert::Bert;
use super::cpu_encoder_layer::{Layer, Norm, Scratch};
use super::host_matmul::host_values;

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
            .map(Layer::read)
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
