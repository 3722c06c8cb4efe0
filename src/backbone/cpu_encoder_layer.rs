//! One layer of the host-memory MiniLM encoder (`cpu_encoder`): its weights copied out of burn
//! and packed, LayerNorm with the residual add fused in, and attention and the feed-forward part
//! over one text's own tokens, in per-thread scratch buffers.

use burn::nn::Linear;

use super::bert::{BertLayer, LayerNorm};
use super::host_matmul::{host_values, matmul_bias_act, pack_panels};

/// LayerNorm's ε in all-MiniLM-L6-v2 (and `bert`'s burn path).
const LN_EPS: f32 = 1e-12;

/// A LayerNorm's scale and shift.
pub(super) struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    pub(super) fn read(norm: &LayerNorm) -> Option<Self> {
        Some(Self {
            gamma: host_values(norm.gamma.val())?,
            beta: host_values(norm.beta.val())?,
        })
    }

    /// `x ← LayerNorm(x + residual)` row by row (`residual` may be empty: no add).
    pub(super) fn apply(&self, x: &mut [f32], residual: &[f32]) {
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

pub(super) struct Layer {
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
pub(super) struct Scratch {
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
    /// The layer's weights copied out of `layer` and packed, or `None` when they cannot be read
    /// without waiting (not the CPU device).
    pub(super) fn read(layer: &BertLayer) -> Option<Self> {
        Some(Self {
            qkv: Dense::read(&[&layer.query, &layer.key, &layer.value])?,
            attention_out: Dense::read(&[&layer.attention_out])?,
            attention_norm: Norm::read(&layer.attention_norm)?,
            intermediate: Dense::read(&[&layer.intermediate])?,
            output: Dense::read(&[&layer.output])?,
            output_norm: Norm::read(&layer.output_norm)?,
            heads: layer.heads(),
        })
    }
    /// One layer over a text's `tokens × hidden` states `x`, in place.
    pub(super) fn apply(&self, x: &mut Vec<f32>, tokens: usize, s: &mut Scratch) {
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
