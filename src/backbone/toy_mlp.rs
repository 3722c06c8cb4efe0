//! A tiny MLP backbone: blocks of Linear + ReLU. It has real blocks to freeze and unfreeze, so the
//! engine's strategies can be tested quickly on any device, and it classifies raw feature vectors.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Device;
use burn::tensor::activation::relu;

use super::Activations;
use crate::init::{default_bound, he_bound, uniform_param};
use crate::rng::Rng;

#[derive(Module, Debug)]
pub struct ToyBlock {
    pub linear: Linear,
}

#[derive(Module, Debug)]
pub struct ToyMlp {
    pub blocks: Vec<ToyBlock>,
    #[module(skip)]
    input_dim: usize,
}

impl ToyMlp {
    /// `widths = [input, block1, block2, …]`; callers check that widths are non-zero. A single
    /// width gives no blocks: the input passes through unchanged (a head on given features).
    pub fn new(widths: &[usize], rng: &mut Rng, device: &Device) -> Self {
        let blocks = widths
            .windows(2)
            .map(|w| ToyBlock {
                linear: Linear {
                    weight: uniform_param([w[0], w[1]], he_bound(w[0]), rng, device),
                    bias: Some(uniform_param([w[1]], default_bound(w[0]), rng, device)),
                },
            })
            .collect();
        Self {
            blocks,
            input_dim: widths.first().copied().unwrap_or(0),
        }
    }

    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    pub fn feature_dim(&self) -> usize {
        self.blocks
            .last()
            .map_or(self.input_dim, |b| b.linear.weight.val().dims()[1])
    }

    pub fn forward_blocks(
        &self,
        x: Activations,
        blocks: core::ops::Range<usize>,
        _train: bool,
    ) -> Activations {
        let mut x = x.into_features();
        for block in &self.blocks[blocks] {
            x = relu(block.linear.forward(x));
        }
        Activations::Flat(x)
    }
}
