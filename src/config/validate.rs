//! Parsing a [`TrainConfig`] and checking every value, with errors that name the field and what
//! is allowed.

use super::{
    Balance, FineTuneLoss, GradClip, HeadFit, HeadInit, OptimizerConfig, Schedule, Strategy,
    TextFeatures, TrainConfig,
};
use crate::error::{Error, Result};

fn check(ok: bool, field: &str, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(field, message()))
    }
}

/// Upper bounds that keep every size a config implies within what memory can hold, so that a
/// typo (`epochs: 1e9`, `hidden: [1000000000]`) is refused with its field instead of allocating
/// until the tab dies.
pub const MAX_BATCH_SIZE: usize = 4096;
pub const MAX_ACCUMULATION_STEPS: usize = 1024;
pub const MAX_EPOCHS: usize = 10_000;
pub const MAX_HIDDEN_LAYERS: usize = 8;
pub const MAX_HIDDEN_WIDTH: usize = 8192;
pub const MAX_TOP_K: usize = 1000;
/// The weakest L2 the convex fit accepts (scikit-learn's `C`): beyond it, separable classes
/// have no optimum to converge to.
pub const MAX_CONVEX_C: f64 = 1e6;
/// Validation beyond this share leaves too few examples to train on.
pub const MAX_VALIDATION_FRACTION: f64 = 0.9;

impl TrainConfig {
    /// Why a run of this config is not the convex problem `head_fit: convex` solves (augmentation,
    /// which is not part of the config, is checked where it is set), or `None` when it is.
    pub fn not_convex(&self) -> Option<&'static str> {
        if self.strategy != Strategy::FeatureExtraction {
            Some("the strategy trains backbone blocks")
        } else if !self.head.hidden.is_empty() {
            Some("the head has hidden layers")
        } else if self.head.dropout > 0.0 {
            Some("the head has dropout")
        } else if self.balance == Balance::Sampling {
            Some("class-balanced sampling draws batches")
        } else {
            None
        }
    }

    /// Parses a config from JSON text, naming an unknown or mistyped field.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::config("config", e.to_string()))
    }

    /// Checks every value against what is allowed, for a backbone with `num_blocks` blocks.
    pub fn validate(&self, num_blocks: usize) -> Result<()> {
        let lr = self.learning_rate;
        check(lr > 0.0 && lr <= 1.0, "learning_rate", || {
            format!("must be in (0, 1], got {lr}; fine-tuning usually uses 1e-4 to 1e-2")
        })?;
        check(
            (1..=MAX_BATCH_SIZE).contains(&self.batch_size),
            "batch_size",
            || {
                format!(
                    "must be between 1 and {MAX_BATCH_SIZE} (8 to 64 is typical), got {}",
                    self.batch_size
                )
            },
        )?;
        check(
            (1..=MAX_ACCUMULATION_STEPS).contains(&self.accumulation_steps),
            "accumulation_steps",
            || {
                format!(
                    "must be between 1 and {MAX_ACCUMULATION_STEPS} (1 = no accumulation), got {}",
                    self.accumulation_steps
                )
            },
        )?;
        check((1..=MAX_EPOCHS).contains(&self.epochs), "epochs", || {
            format!("must be between 1 and {MAX_EPOCHS}, got {}", self.epochs)
        })?;
        check(
            self.validation_fraction > 0.0 && self.validation_fraction <= MAX_VALIDATION_FRACTION,
            "validation_fraction",
            || {
                format!(
                    "must be in (0, {MAX_VALIDATION_FRACTION}] so that examples are left to train on, got {}",
                    self.validation_fraction
                )
            },
        )?;
        check(
            (0.0..1.0).contains(&self.label_smoothing),
            "label_smoothing",
            || format!("must be in [0, 1), got {}", self.label_smoothing),
        )?;
        check(
            (0.0..1.0).contains(&self.head.dropout),
            "head.dropout",
            || format!("must be in [0, 1), got {}", self.head.dropout),
        )?;
        check(
            self.head.hidden.len() <= MAX_HIDDEN_LAYERS
                && self
                    .head
                    .hidden
                    .iter()
                    .all(|&h| (1..=MAX_HIDDEN_WIDTH).contains(&h)),
            "head.hidden",
            || {
                format!(
                    "at most {MAX_HIDDEN_LAYERS} hidden layers of 1 to {MAX_HIDDEN_WIDTH} units each (e.g. [256]), got {:?}",
                    self.head.hidden
                )
            },
        )?;
        check(
            self.weight_decay >= 0.0 && self.weight_decay.is_finite(),
            "weight_decay",
            || format!("must be ≥ 0, got {}", self.weight_decay),
        )?;
        check(self.l2sp >= 0.0 && self.l2sp.is_finite(), "l2sp", || {
            format!("must be ≥ 0, got {}", self.l2sp)
        })?;
        for (field, v) in [
            ("backbone_lr_multiplier", self.backbone_lr_multiplier),
            ("backbone_lr_decay", self.backbone_lr_decay),
        ] {
            check(v > 0.0 && v <= 1.0, field, || {
                format!("must be in (0, 1], got {v}")
            })?;
        }
        check(
            self.divergence_factor > 1.0 && self.divergence_factor.is_finite(),
            "divergence_factor",
            || format!("must be > 1, got {}", self.divergence_factor),
        )?;
        check((1..=MAX_TOP_K).contains(&self.top_k), "top_k", || {
            format!("must be between 1 and {MAX_TOP_K}, got {}", self.top_k)
        })?;
        match &self.optimizer {
            OptimizerConfig::Adamw {
                beta1,
                beta2,
                epsilon,
            } => {
                check((0.0..1.0).contains(beta1), "optimizer.beta1", || {
                    format!("must be in [0, 1), got {beta1}")
                })?;
                check((0.0..1.0).contains(beta2), "optimizer.beta2", || {
                    format!("must be in [0, 1), got {beta2}")
                })?;
                check(
                    *epsilon > 0.0 && *epsilon <= 1.0,
                    "optimizer.epsilon",
                    || format!("must be in (0, 1] (1e-8 is typical), got {epsilon}"),
                )?;
            }
            OptimizerConfig::Sgd { momentum, .. } => {
                check((0.0..1.0).contains(momentum), "optimizer.momentum", || {
                    format!("must be in [0, 1), got {momentum}")
                })?;
            }
        }
        match &self.schedule {
            Schedule::Constant => {}
            Schedule::Step {
                every_epochs,
                gamma,
            } => {
                check(
                    (1..=MAX_EPOCHS).contains(every_epochs),
                    "schedule.every_epochs",
                    || format!("must be between 1 and {MAX_EPOCHS}, got {every_epochs}"),
                )?;
                check(*gamma > 0.0 && *gamma <= 1.0, "schedule.gamma", || {
                    format!("must be in (0, 1], got {gamma}")
                })?;
            }
            Schedule::Exponential { gamma } => {
                check(*gamma > 0.0 && *gamma <= 1.0, "schedule.gamma", || {
                    format!("must be in (0, 1], got {gamma}")
                })?;
            }
            Schedule::Cosine { min_fraction } => {
                check(
                    (0.0..=1.0).contains(min_fraction),
                    "schedule.min_fraction",
                    || format!("must be in [0, 1], got {min_fraction}"),
                )?;
            }
        }
        if let Some(clip) = &self.grad_clip {
            let (field, v) = match clip {
                GradClip::Norm { max_norm } => ("grad_clip.max_norm", *max_norm),
                GradClip::Value { value } => ("grad_clip.value", *value),
            };
            check(v > 0.0 && v.is_finite(), field, || {
                format!("must be > 0, got {v}")
            })?;
        }
        if let Some(es) = &self.early_stopping {
            check(
                (1..=MAX_EPOCHS).contains(&es.patience),
                "early_stopping.patience",
                || {
                    format!(
                        "must be between 1 and {MAX_EPOCHS} epochs, got {}",
                        es.patience
                    )
                },
            )?;
            check(
                es.min_delta >= 0.0 && es.min_delta.is_finite(),
                "early_stopping.min_delta",
                || format!("must be ≥ 0, got {}", es.min_delta),
            )?;
        }
        match &self.strategy {
            Strategy::Partial { trainable_blocks } => {
                check(
                    *trainable_blocks >= 1 && *trainable_blocks <= num_blocks,
                    "strategy.trainable_blocks",
                    || {
                        format!(
                            "must be between 1 and {num_blocks} (the backbone's blocks), got {trainable_blocks}"
                        )
                    },
                )?;
            }
            Strategy::Gradual {
                every_epochs,
                max_blocks,
            } => {
                check(
                    (1..=MAX_EPOCHS).contains(every_epochs),
                    "strategy.every_epochs",
                    || format!("must be between 1 and {MAX_EPOCHS}, got {every_epochs}"),
                )?;
                if let Some(m) = max_blocks {
                    check(*m >= 1 && *m <= num_blocks, "strategy.max_blocks", || {
                        format!("must be between 1 and {num_blocks}, got {m}")
                    })?;
                }
            }
            Strategy::FeatureExtraction | Strategy::Full => {}
        }
        check(
            self.convex_c > 0.0 && self.convex_c <= MAX_CONVEX_C,
            "convex_c",
            || {
                format!(
                    "must be in (0, {MAX_CONVEX_C}] (1 is scikit-learn's default), got {}",
                    self.convex_c
                )
            },
        )?;
        check(
            self.head_init != HeadInit::Probe || self.head.hidden.is_empty(),
            "head_init",
            || {
                "'probe' solves a linear head before fine-tuning, but the head has hidden layers; \
                 remove them (head.hidden: []) or use 'random'"
                    .into()
            },
        )?;
        check(
            self.fine_tune_loss != FineTuneLoss::Contrastive || self.head.hidden.is_empty(),
            "fine_tune_loss",
            || {
                "'contrastive' solves a linear head on the features after every epoch, but the \
                 head has hidden layers; remove them (head.hidden: []) or use 'cross_entropy'"
                    .into()
            },
        )?;
        check(
            self.text_features != TextFeatures::EveryLayer
                || self.strategy == Strategy::FeatureExtraction,
            "text_features",
            || {
                "'every_layer' pools every layer of a frozen encoder, but this strategy trains \
                 some of them (their passes start part-way up, from a cache); use strategy \
                 'feature_extraction', or 'auto' / 'last_layer'"
                    .into()
            },
        )?;
        if self.head_fit == HeadFit::Convex
            && let Some(why) = self.not_convex()
        {
            return Err(Error::config(
                "head_fit",
                format!(
                    "'convex' solves a linear head on a frozen backbone, but {why}; use 'epochs' or 'auto'"
                ),
            ));
        }
        Ok(())
    }
}
