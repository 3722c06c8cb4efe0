//! `TrainConfig`: every choice a training run makes, with the defaults a beginner can leave alone.
//! The same struct arrives from JS (as a plain object) and from the CLI/tests; unknown names are
//! rejected by serde, out-of-range values by [`TrainConfig::validate`].

use serde::{Deserialize, Serialize};

mod optimization;
mod text_features;
pub mod validate;

pub use optimization::{GradClip, OptimizerConfig, Schedule};
pub use text_features::{
    EVERY_LAYER_AUTO_MAX_EXAMPLES, EVERY_LAYER_AUTO_MIN_PER_CLASS, TextFeatures,
};

/// Which backbone blocks train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// Frozen backbone; only the head trains. Backbone features are computed once and cached.
    FeatureExtraction,
    /// The last `trainable_blocks` backbone blocks train with the head.
    Partial { trainable_blocks: usize },
    /// Starts with the head only and makes one more block trainable (top down) every
    /// `every_epochs` epochs, up to `max_blocks` (default: all).
    Gradual {
        every_epochs: usize,
        #[serde(default)]
        max_blocks: Option<usize>,
    },
    /// Every backbone block trains.
    Full,
}

/// The head's non-linearity between hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Gelu,
}

/// The classifier head on top of the pooled backbone features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadConfig {
    /// Hidden layer widths; empty = a linear head. Default: empty.
    pub hidden: Vec<usize>,
    /// Activation between hidden layers. Default: relu.
    pub activation: Activation,
    /// Dropout probability before every head layer, in [0, 1). Default: 0.0.
    pub dropout: f64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        Self {
            hidden: Vec::new(),
            activation: Activation::Relu,
            dropout: 0.0,
        }
    }
}

/// How to counter classes with unequal numbers of examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    None,
    /// Weight each class's loss by n / (classes × n_class).
    WeightedLoss,
    /// Draw training batches with every class equally likely.
    Sampling,
}

/// The metric that early stopping and "best epoch" watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation loss (lower is better).
    Loss,
    /// Validation accuracy.
    Accuracy,
    /// Validation macro-averaged F1.
    MacroF1,
}

/// Stop when the monitored validation metric has not improved for `patience` epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStopping {
    /// Default: loss.
    pub monitor: Monitor,
    /// Epochs without improvement before stopping. Default: 5.
    pub patience: usize,
    /// Smallest change that counts as an improvement. Default: 0.0.
    pub min_delta: f64,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            monitor: Monitor::Loss,
            patience: 5,
            min_delta: 0.0,
        }
    }
}

/// How the head's weights are fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadFit {
    /// `convex` where the run is the convex problem it can solve (a frozen backbone, a linear
    /// head, no dropout, no augmentation, no class-balanced sampling), else `epochs`.
    Auto,
    /// The optimiser over epochs of batches (what every run that trains backbone blocks does).
    Epochs,
    /// A linear head on frozen features is a multinomial logistic regression: solved to its
    /// optimum with L-BFGS on the cached features (full batch, L2 strength from `convex_c`), ten
    /// iterations per epoch, until converged. Refused for runs that are not that problem.
    Convex,
}

/// Where the head's weights start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadInit {
    /// Small random weights (Glorot), as a new layer starts.
    #[default]
    Random,
    /// Linear probing, then fine-tuning (LP-FT; Kumar et al., ICLR 2022): before any block
    /// trains, a linear head is solved on the whole pretrained backbone's features as the convex
    /// fit solves it, and counts as the first epoch (the kept model when no later epoch beats it
    /// on validation). The blocks then start training under a head that already classifies,
    /// instead of a random one whose first gradients pull the pretrained features apart. Needs a
    /// linear head and examples without augmentation (their features are cached).
    Probe,
}

/// What the backbone's trainable blocks learn from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FineTuneLoss {
    /// The head's cross-entropy, back through the blocks (the head and the blocks train together).
    #[default]
    CrossEntropy,
    /// Contrastive pairs, as SetFit fine-tunes a sentence encoder (Tunstall et al., 2022): each
    /// training example with one of its own class and one of another, the blocks pulled so that
    /// the cosine similarity of a pair's features nears 1 for the same class and 0 for
    /// different ones. The head does not train by gradients: it is solved on the features as
    /// they are after every epoch (the convex fit, to its optimum), and the first epoch is that
    /// solve on the pretrained backbone (a probe), so with early stopping on, the kept epoch can
    /// be "no fine-tuning at all" (the Contrastive recipe turns it off and keeps the last
    /// epoch, as SetFit does: measured better, README Model quality). Needs a linear head and
    /// examples without augmentation (their features are cached); with a frozen backbone nothing
    /// fine-tunes, so it changes nothing (as `head_init` does not). For few examples per class:
    /// every example is forwarded about three times per epoch. Runs on the run's own device:
    /// the pair loss joins examples across a batch, so it is not cut into shards.
    Contrastive,
}

/// The learning rate of a head on a frozen backbone (the default, and the Quick recipe), chosen
/// on the quality benchmark: with 1e-3 the head stayed 0.7–2 points below a converged logistic
/// regression on the text sets at 300 examples per class; with 1e-2 it is 0–1.5 points above it
/// on every set (README, Model quality).
pub const QUICK_LEARNING_RATE: f64 = 1e-2;

/// The learning rate of the recipes that train backbone blocks (Balanced, Thorough): the head's
/// rate, the blocks learning at `backbone_lr_multiplier` times it.
pub const FINE_TUNE_LEARNING_RATE: f64 = 1e-3;

/// The blocks' rate as a fraction of the head's (`backbone_lr_multiplier`) by default and in the
/// recipes that train blocks under a head (Balanced, Thorough).
pub const BACKBONE_LR_MULTIPLIER: f64 = 0.1;

/// Everything a training run needs to know. Every field has a default (shown in its doc).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Which backbone blocks train. Default: feature extraction (frozen backbone).
    pub strategy: Strategy,
    /// Default: a linear head.
    pub head: HeadConfig,
    /// Default: AdamW.
    pub optimizer: OptimizerConfig,
    /// The head's peak learning rate, in (0, 1]. Default: 1e-2 ([`QUICK_LEARNING_RATE`]); the
    /// recipes that train backbone blocks set 1e-3 ([`FINE_TUNE_LEARNING_RATE`]).
    pub learning_rate: f64,
    /// Default: constant.
    pub schedule: Schedule,
    /// Linear warm-up from 0 over this many optimiser steps. Default: 0.
    pub warmup_steps: usize,
    /// Backbone rate = head rate × this multiplier (discriminative rates), in (0, 1]. Default: 0.1.
    pub backbone_lr_multiplier: f64,
    /// Each block further from the head gets its rate multiplied once more by this, in (0, 1].
    /// Default: 1.0 (no decay).
    pub backbone_lr_decay: f64,
    /// Weight decay on weight matrices/kernels (not biases). Default: 1e-4.
    pub weight_decay: f64,
    /// Default: none.
    pub grad_clip: Option<GradClip>,
    /// Examples per step. Default: 32.
    pub batch_size: usize,
    /// Optimiser step every this many batches (effective batch = batch_size × this). Default: 1.
    pub accumulation_steps: usize,
    /// Maximum epochs. Default: 20.
    pub epochs: usize,
    /// Label smoothing in [0, 1). Default: 0.0.
    pub label_smoothing: f64,
    /// L2-SP strength: pulls trained backbone weights toward the pretrained ones. Default: 0.0.
    pub l2sp: f64,
    /// Fraction of each class held out for validation, in (0, 1). Default: 0.2.
    pub validation_fraction: f64,
    /// Default: none.
    pub balance: Balance,
    /// Default: on (loss, patience 5).
    pub early_stopping: Option<EarlyStopping>,
    /// Stop as diverged when the loss is not finite or exceeds this × the first epoch's loss.
    /// Default: 20.0.
    pub divergence_factor: f64,
    /// Classes counted in the top-k accuracy. Default: 3.
    pub top_k: usize,
    /// Seed for the split, shuffles, dropout and head initialisation. Default: 42.
    pub seed: u64,
    /// burn's gradient checkpointing: memory-bound activations are recomputed in the backward
    /// pass instead of kept, trading compute for memory when backbone blocks train. Default: off.
    pub gradient_checkpointing: bool,
    /// Temperature scaling when the run ends: one temperature dividing the logits, fitted on the
    /// validation split and kept when it lowers the validation loss, so that the probabilities
    /// mean what they say (the predictions do not change). Default: on.
    pub calibrate: bool,
    /// How the head is fitted. Default: auto (the convex solve where it applies).
    pub head_fit: HeadFit,
    /// The convex fit's inverse L2 strength, scikit-learn's `C`: it minimises C·Σ cross-entropy +
    /// ½‖W‖² (the bias not penalised; class weights scale the cross-entropy), so larger is
    /// weaker. In (0, 1e6]. Default: 1.0 (scikit-learn's default).
    pub convex_c: f64,
    /// Where the head's weights start. Default: random.
    pub head_init: HeadInit,
    /// What the trainable blocks learn from. Default: cross-entropy.
    pub fine_tune_loss: FineTuneLoss,
    /// What a text backbone's head reads. Default: auto (every layer when the backbone stays
    /// frozen and there are at most 10,000 examples).
    pub text_features: TextFeatures,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::FeatureExtraction,
            head: HeadConfig::default(),
            optimizer: OptimizerConfig::default(),
            learning_rate: QUICK_LEARNING_RATE,
            schedule: Schedule::Constant,
            warmup_steps: 0,
            backbone_lr_multiplier: BACKBONE_LR_MULTIPLIER,
            backbone_lr_decay: 1.0,
            weight_decay: 1e-4,
            grad_clip: None,
            batch_size: 32,
            accumulation_steps: 1,
            epochs: 20,
            label_smoothing: 0.0,
            l2sp: 0.0,
            validation_fraction: 0.2,
            balance: Balance::None,
            early_stopping: Some(EarlyStopping::default()),
            divergence_factor: 20.0,
            top_k: 3,
            seed: 42,
            gradient_checkpointing: false,
            calibrate: true,
            head_fit: HeadFit::Auto,
            convex_c: 1.0,
            head_init: HeadInit::Random,
            fine_tune_loss: FineTuneLoss::CrossEntropy,
            text_features: TextFeatures::Auto,
        }
    }
}

impl TrainConfig {
    /// How many of the backbone's last blocks train during `epoch` (0-based).
    pub fn trainable_blocks(&self, epoch: usize, num_blocks: usize) -> usize {
        match &self.strategy {
            Strategy::FeatureExtraction => 0,
            Strategy::Partial { trainable_blocks } => (*trainable_blocks).min(num_blocks),
            Strategy::Gradual {
                every_epochs,
                max_blocks,
            } => (epoch / (*every_epochs).max(1))
                .min(max_blocks.unwrap_or(num_blocks).min(num_blocks)),
            Strategy::Full => num_blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_unknown_fields_are_named() {
        TrainConfig::default().validate(4).unwrap();
        let err = TrainConfig::from_json(r#"{"lerning_rate": 0.1}"#).unwrap_err();
        assert!(err.to_string().contains("lerning_rate"), "{err}");
        let cfg =
            TrainConfig::from_json(r#"{"strategy": {"kind": "partial", "trainable_blocks": 2}}"#)
                .unwrap();
        assert_eq!(
            cfg.strategy,
            Strategy::Partial {
                trainable_blocks: 2
            }
        );
    }

    #[test]
    fn gradual_unfreezing_schedule() {
        let cfg = TrainConfig {
            strategy: Strategy::Gradual {
                every_epochs: 2,
                max_blocks: Some(3),
            },
            ..TrainConfig::default()
        };
        let plan: Vec<usize> = (0..10).map(|e| cfg.trainable_blocks(e, 4)).collect();
        assert_eq!(plan, vec![0, 0, 1, 1, 2, 2, 3, 3, 3, 3]);
    }
}
