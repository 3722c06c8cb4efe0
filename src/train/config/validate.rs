//! Parsing a [`TrainConfig`] and checking every value, with errors that name the field and what
//! is allowed.

use super::{GradClip, OptimizerConfig, Schedule, Strategy, TrainConfig};
use crate::error::{Error, Result};

fn check(ok: bool, field: &str, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(field, message()))
    }
}

fn in_unit_open(x: f64) -> bool {
    x > 0.0 && x < 1.0
}

impl TrainConfig {
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
        check(self.batch_size > 0, "batch_size", || {
            "must be at least 1 (8 to 64 is typical)".into()
        })?;
        check(self.accumulation_steps > 0, "accumulation_steps", || {
            "must be at least 1 (1 = no accumulation)".into()
        })?;
        check(self.epochs > 0, "epochs", || "must be at least 1".into())?;
        check(
            in_unit_open(self.validation_fraction),
            "validation_fraction",
            || format!("must be in (0, 1), got {}", self.validation_fraction),
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
            self.head.hidden.iter().all(|&h| h > 0),
            "head.hidden",
            || "hidden layer widths must be at least 1".into(),
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
        check(self.divergence_factor > 1.0, "divergence_factor", || {
            format!("must be > 1, got {}", self.divergence_factor)
        })?;
        check(self.top_k >= 1, "top_k", || "must be at least 1".into())?;
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
                check(*epsilon > 0.0, "optimizer.epsilon", || {
                    format!("must be > 0, got {epsilon}")
                })?;
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
                check(*every_epochs > 0, "schedule.every_epochs", || {
                    "must be at least 1".into()
                })?;
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
            check(es.patience > 0, "early_stopping.patience", || {
                "must be at least 1 epoch".into()
            })?;
            check(es.min_delta >= 0.0, "early_stopping.min_delta", || {
                format!("must be ≥ 0, got {}", es.min_delta)
            })?;
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
                check(*every_epochs > 0, "strategy.every_epochs", || {
                    "must be at least 1".into()
                })?;
                if let Some(m) = max_blocks {
                    check(*m >= 1 && *m <= num_blocks, "strategy.max_blocks", || {
                        format!("must be between 1 and {num_blocks}, got {m}")
                    })?;
                }
            }
            Strategy::FeatureExtraction | Strategy::Full => {}
        }
        Ok(())
    }
}
