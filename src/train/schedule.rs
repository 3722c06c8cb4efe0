//! Learning rates as a pure function of the optimiser step, so a resumed run needs only the step
//! count to continue its schedule exactly.

use crate::config::{Schedule, TrainConfig};

/// The learning-rate plan of one run.
#[derive(Clone, Debug)]
pub struct LrSchedule {
    base: f64,
    schedule: Schedule,
    warmup_steps: usize,
    steps_per_epoch: usize,
    total_steps: usize,
}

impl LrSchedule {
    /// `steps_per_epoch` counts optimiser steps (after gradient accumulation).
    pub fn new(config: &TrainConfig, steps_per_epoch: usize) -> Self {
        let steps_per_epoch = steps_per_epoch.max(1);
        Self {
            base: config.learning_rate,
            schedule: config.schedule.clone(),
            warmup_steps: config.warmup_steps,
            steps_per_epoch,
            total_steps: steps_per_epoch * config.epochs,
        }
    }

    /// The head's learning rate at optimiser step `step` (0-based).
    pub fn head_lr(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.base * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let after = (step - self.warmup_steps) as f64;
        let epoch_pos = step as f64 / self.steps_per_epoch as f64;
        match &self.schedule {
            Schedule::Constant => self.base,
            Schedule::Step {
                every_epochs,
                gamma,
            } => {
                let drops = (epoch_pos / *every_epochs as f64).floor();
                self.base * gamma.powf(drops)
            }
            Schedule::Exponential { gamma } => self.base * gamma.powf(epoch_pos),
            Schedule::Cosine { min_fraction } => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let t = (after / span).min(1.0);
                let min = self.base * min_fraction;
                min + (self.base - min) * 0.5 * (1.0 + (core::f64::consts::PI * t).cos())
            }
        }
    }
}

/// Rate multiplier of backbone block `block` (0 = input side) among `num_blocks`: the backbone
/// multiplier, decayed once more per block between it and the head.
pub fn block_lr_factor(config: &TrainConfig, block: usize, num_blocks: usize) -> f64 {
    let depth_from_top = num_blocks.saturating_sub(block + 1) as i32;
    config.backbone_lr_multiplier * config.backbone_lr_decay.powi(depth_from_top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(schedule: Schedule, warmup: usize) -> TrainConfig {
        TrainConfig {
            learning_rate: 0.1,
            schedule,
            warmup_steps: warmup,
            epochs: 10,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn warmup_then_cosine_reaches_min() {
        let s = LrSchedule::new(&cfg(Schedule::Cosine { min_fraction: 0.1 }, 5), 10);
        assert!((s.head_lr(0) - 0.02).abs() < 1e-12);
        assert!((s.head_lr(4) - 0.1).abs() < 1e-12);
        assert!((s.head_lr(5) - 0.1).abs() < 1e-12);
        assert!((s.head_lr(99) - 0.01).abs() < 1e-3);
    }

    #[test]
    fn step_and_exponential() {
        let s = LrSchedule::new(
            &cfg(
                Schedule::Step {
                    every_epochs: 2,
                    gamma: 0.5,
                },
                0,
            ),
            10,
        );
        assert_eq!(s.head_lr(19), 0.1);
        assert_eq!(s.head_lr(20), 0.05);
        let e = LrSchedule::new(&cfg(Schedule::Exponential { gamma: 0.5 }, 0), 10);
        assert!((e.head_lr(10) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn discriminative_rates_decay_with_depth() {
        let c = TrainConfig {
            backbone_lr_multiplier: 0.1,
            backbone_lr_decay: 0.5,
            ..TrainConfig::default()
        };
        assert!((block_lr_factor(&c, 3, 4) - 0.1).abs() < 1e-12);
        assert!((block_lr_factor(&c, 1, 4) - 0.025).abs() < 1e-12);
    }
}
