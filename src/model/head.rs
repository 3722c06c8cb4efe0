//! The classifier head: linear, or an MLP with hidden layers, an activation and dropout.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Device, Tensor, TensorData};

use crate::config::{Activation, HeadConfig};
use crate::init::{default_bound, uniform_param};
use crate::model::product::matmul;
use crate::rng::Rng;

/// The range calibration searches for the temperature: below 0.05 or above 20, a head is broken
/// rather than mis-scaled.
pub const MIN_TEMPERATURE: f64 = 0.05;
pub const MAX_TEMPERATURE: f64 = 20.0;

/// Whether a temperature (read from a file) is one calibration could have produced.
pub fn valid_temperature(t: f64) -> bool {
    (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&t)
}

#[derive(Module, Debug)]
pub struct Head {
    pub layers: Vec<Linear>,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    dropout: f64,
    /// The logits are divided by this before the softmax (temperature scaling, fitted when a
    /// run ends: `train::calibration`); 1 while training.
    #[module(skip)]
    pub temperature: f64,
}

impl Head {
    /// A head from `features` inputs to `classes` outputs, seeded.
    pub fn new(
        config: &HeadConfig,
        features: usize,
        classes: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> Self {
        let mut widths = vec![features];
        widths.extend_from_slice(&config.hidden);
        widths.push(classes);
        let layers = widths
            .windows(2)
            .map(|w| Linear {
                weight: uniform_param([w[0], w[1]], default_bound(w[0]), rng, device),
                bias: Some(uniform_param([w[1]], default_bound(w[0]), rng, device)),
            })
            .collect();
        Self {
            layers,
            activation: config.activation,
            dropout: config.dropout,
            temperature: 1.0,
        }
    }

    /// `logits` as the model's probabilities see them: divided by the calibrated temperature.
    pub fn calibrated(&self, logits: Tensor<2>) -> Tensor<2> {
        if self.temperature == 1.0 {
            return logits;
        }
        logits / self.temperature
    }

    pub fn num_classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.weight.val().dims()[1])
    }

    /// Inverted-dropout masks for one training batch (one per layer input), drawn from `rng` so
    /// that runs are reproducible; `None` when dropout is off.
    pub fn dropout_masks(
        &self,
        batch: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> Option<Vec<Tensor<2>>> {
        if self.dropout <= 0.0 {
            return None;
        }
        let keep = 1.0 - self.dropout as f32;
        Some(
            self.layers
                .iter()
                .map(|l| {
                    let width = l.weight.val().dims()[0];
                    let mask: Vec<f32> = (0..batch * width)
                        .map(|_| {
                            if rng.next_f32() < keep {
                                1.0 / keep
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    Tensor::from_data(TensorData::new(mask, [batch, width]), device)
                })
                .collect(),
        )
    }

    /// Logits `[batch, classes]` from features `[batch, features]`; `masks` from
    /// [`Head::dropout_masks`] during training, `None` for evaluation.
    pub fn forward(&self, mut x: Tensor<2>, masks: Option<&[Tensor<2>]>) -> Tensor<2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            if let Some(masks) = masks {
                x = x * masks[i].clone();
            }
            x = linear(layer, x);
            if i < last {
                x = match self.activation {
                    Activation::Relu => relu(x),
                    Activation::Gelu => gelu(x),
                };
            }
        }
        x
    }
}

/// `x · weight + bias`, as burn's `Linear::forward` for a matrix input, with the product through
/// [`matmul`] (our kernel on a GPU device).
fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    let product = matmul(x, layer.weight.val());
    match &layer.bias {
        Some(bias) => product + bias.val().unsqueeze(),
        None => product,
    }
}
