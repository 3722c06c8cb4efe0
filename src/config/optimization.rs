//! How the optimiser steps: which optimiser, how the learning rate changes over a run, and how
//! gradients are clipped (the optimisation half of `TrainConfig`).

use serde::{Deserialize, Serialize};

/// The optimiser and its own settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// AdamW with decoupled weight decay. Defaults: beta1 0.9, beta2 0.999, epsilon 1e-8.
    Adamw {
        #[serde(default = "default_beta1")]
        beta1: f64,
        #[serde(default = "default_beta2")]
        beta2: f64,
        #[serde(default = "default_epsilon")]
        epsilon: f64,
    },
    /// SGD with momentum (0 = plain SGD), optionally Nesterov. Weight decay is added to the gradient.
    Sgd {
        #[serde(default = "default_momentum")]
        momentum: f64,
        #[serde(default)]
        nesterov: bool,
    },
}

fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_epsilon() -> f64 {
    1e-8
}
fn default_momentum() -> f64 {
    0.9
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::Adamw {
            beta1: default_beta1(),
            beta2: default_beta2(),
            epsilon: default_epsilon(),
        }
    }
}

/// How the learning rate changes over the run (after the warm-up).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    Constant,
    /// Multiply by `gamma` every `every_epochs` epochs.
    Step {
        every_epochs: usize,
        gamma: f64,
    },
    /// Multiply by `gamma` every epoch (applied smoothly per step).
    Exponential {
        gamma: f64,
    },
    /// Cosine decay from the base rate to `min_fraction` × base at the last step.
    Cosine {
        #[serde(default)]
        min_fraction: f64,
    },
}

/// Gradient clipping, applied before the optimiser step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GradClip {
    /// Scale all gradients together so their global L2 norm is at most `max_norm`.
    Norm { max_norm: f64 },
    /// Clamp every gradient element into [-value, value].
    Value { value: f64 },
}
