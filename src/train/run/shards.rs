//! Data-parallel shards of a fine-tuning batch on the CPU device.
//!
//! burn flex spreads each operation over the thread pool, but a step through MobileNetV2's 7×7
//! tail (or MiniLM's layers) is many small operations, each too short to share out well: the
//! step scaled 1.45–1.62× on 2 threads. Here the batch is cut into shards that run forward and
//! backward at the same time, each through its own replica of the model — burn's `Module::fork`,
//! as burn-train's multi-device strategy makes one per device: the same values as new autodiff
//! leaves, so that each shard records its own graph under its own lock — and their gradients are
//! added into the optimiser's pending sum (matched by parameter path). Each shard's loss is divided by
//! the whole batch's weight, so the sum is the batch's gradient up to float rounding (BatchNorm
//! uses its running statistics while fine-tuning, so examples do not interact).
//!
//! There is one shard per thread (one thread runs the batch whole, as before: two half batches
//! one after the other took 10 % longer than the whole batch), so results depend on the thread
//! count by float rounding only (`tests/threads.rs`).
//!
//! The same shards spread a batch over several devices (`TrainingRun::train_on_more_devices`,
//! `kindling train --device cuda:0,cuda:1`): one shard per device, its replica forked onto that
//! device and its inputs moved there, and its gradients moved back to the run's own device, where
//! the optimiser steps once — the strategy of burn-train's `MultiDevice` learner
//! (`OptimMainDevice`), on our engine's loop (its optimiser keeps state by parameter path, for
//! checkpoints the page reads). burn 0.22's collective all-reduce would spare the copies, but it
//! is implemented for CUDA only.

use burn::module::Module;
use burn::tensor::{Device, Gradients, Int, Tensor};

use super::index_tensor;
use super::{TrainingRun, training_device};
use crate::backbone::Activations;
use crate::model::Classifier;
use crate::train::loss::cross_entropy_per_example;

/// The fewest examples a shard takes: smaller shards leave each operation too little to do.
const MIN_SHARD_EXAMPLES: usize = 4;

/// One batch's inputs to the trainable part.
pub(super) struct BatchInputs {
    pub x: Activations,
    pub y: Tensor<1, Int>,
    pub masks: Option<Vec<Tensor<2>>>,
    /// Per-example loss weights (class weights), if any.
    pub weights: Option<Tensor<1>>,
}

/// What one shard's pass gives back: the copy of the model its graph was recorded on, its
/// gradients, its loss (already divided by the whole batch's weight) and its correct count.
struct ShardPass {
    model: Classifier,
    grads: Gradients,
    loss: Tensor<1>,
    correct: Tensor<1, Int>,
}

impl TrainingRun {
    /// Runs each fine-tuning batch on `others` too, beside the run's own device (which keeps the
    /// model, the cache and the optimiser): one shard per device. The same device may be named
    /// more than once (two replicas on one device: what tests here can offer). A run whose
    /// backbone is frozen trains its head on its own device alone.
    pub fn train_on_more_devices(&mut self, others: &[Device]) {
        self.more_devices = others
            .iter()
            .map(|d| training_device(d, &self.config))
            .collect();
    }

    /// How many batches this run (since it was made or restored) spread over several devices.
    pub fn batches_spread_over_devices(&self) -> usize {
        self.batches_spread
    }

    /// How many shards a batch of `n` examples runs in when blocks of the backbone train: one per
    /// device when the run has several, as far as each gets an example; else, on the CPU device,
    /// one per thread of the pool it runs in, as far as each gets [`MIN_SHARD_EXAMPLES`]; else 1.
    pub(super) fn shards_for(&self, n: usize, frozen: usize) -> usize {
        let fine_tunes = frozen < self.model.backbone.num_blocks();
        let cpu = self.device.clone().inner() == burn::tensor::Device::flex();
        match (fine_tunes, self.more_devices.len()) {
            (false, _) => 1,
            (true, 0) if cpu => shard_count(n, rayon::current_num_threads()),
            (true, 0) => 1,
            (true, more) => (more + 1).min(n).max(1),
        }
    }

    /// The device shard `s` runs on: the run's own, or the `s`-th of its other devices.
    fn shard_device(&self, s: usize) -> Device {
        match s.checked_sub(1).and_then(|i| self.more_devices.get(i)) {
            Some(device) => device.clone(),
            None => self.device.clone(),
        }
    }

    /// Forward and backward of a batch in `shards` shards at once; the gradients join the
    /// optimiser's pending sum as one batch. Returns the batch's mean loss and correct count
    /// (on the device).
    pub(super) fn sharded_pass(
        &mut self,
        inputs: BatchInputs,
        n: usize,
        frozen: usize,
        shards: usize,
    ) -> (Tensor<1>, Tensor<1, Int>) {
        // The whole batch's weight: each shard's weighted sum is divided by it.
        let total = match &inputs.weights {
            Some(w) => w.clone().sum(),
            None => Tensor::from_floats([n as f32], &self.device),
        };
        let parts: Vec<(Classifier, BatchInputs, Tensor<1>)> = (0..shards)
            .map(|s| {
                let device = self.shard_device(s);
                let rows: Vec<usize> = (s * n / shards..(s + 1) * n / shards).collect();
                let idx = index_tensor(&rows, &self.device);
                let part = BatchInputs {
                    x: inputs.x.select(idx.clone()).to_device(&device),
                    y: inputs.y.clone().select(0, idx.clone()).to_device(&device),
                    masks: inputs.masks.as_ref().map(|masks| {
                        masks
                            .iter()
                            .map(|m| m.clone().select(0, idx.clone()).to_device(&device))
                            .collect()
                    }),
                    weights: inputs
                        .weights
                        .clone()
                        .map(|w| w.select(0, idx).to_device(&device)),
                };
                let total = total.clone().to_device(&device);
                (self.model.clone().fork(&device), part, total)
            })
            .collect();
        let smoothing = self.config.label_smoothing;
        let passes = run_all(parts, &|(model, part, total)| {
            shard_pass(model, part, &total, frozen, smoothing)
        });
        let mut loss: Option<Tensor<1>> = None;
        let mut correct: Option<Tensor<1, Int>> = None;
        for pass in passes {
            // Gradients, loss and count come back to the run's device (a no-op on one device).
            self.optimizer
                .add_gradients(&pass.model, &pass.grads, Some(&self.device));
            let pass_loss = pass.loss.to_device(&self.device);
            let pass_correct = pass.correct.to_device(&self.device);
            loss = Some(loss.map_or(pass_loss.clone(), |l| l + pass_loss));
            correct = Some(correct.map_or(pass_correct.clone(), |c| c + pass_correct));
        }
        self.optimizer.batch_added();
        if shards > 1 && !self.more_devices.is_empty() {
            self.batches_spread = self.batches_spread.saturating_add(1);
        }
        (
            loss.unwrap_or_else(|| Tensor::zeros([1], &self.device)),
            correct.unwrap_or_else(|| Tensor::zeros([1], &self.device)),
        )
    }
}

/// Shards of a batch of `n` on `threads` threads: one per thread, as far as each gets
/// [`MIN_SHARD_EXAMPLES`].
fn shard_count(n: usize, threads: usize) -> usize {
    threads.min(n / MIN_SHARD_EXAMPLES).max(1)
}

/// Runs `f` on every part at once (rayon: one after the other on one thread).
fn run_all<T: Send, R: Send>(parts: Vec<T>, f: &(dyn Fn(T) -> R + Sync)) -> Vec<R> {
    use rayon::prelude::*;
    parts.into_par_iter().map(f).collect()
}

/// One shard forward and backward.
fn shard_pass(
    model: Classifier,
    part: BatchInputs,
    total: &Tensor<1>,
    frozen: usize,
    smoothing: f64,
) -> ShardPass {
    let n = part.y.dims()[0];
    let logits = model.forward_from(part.x, frozen, part.masks.as_deref(), true);
    let per_example = cross_entropy_per_example(logits.clone(), part.y.clone(), smoothing);
    let summed = match part.weights {
        Some(w) => (per_example * w).sum(),
        None => per_example.sum(),
    };
    let loss = summed / total.clone();
    let grads = loss.backward();
    let correct = logits
        .detach()
        .argmax(1)
        .reshape([n])
        .equal(part.y)
        .int()
        .sum();
    ShardPass {
        model,
        grads,
        loss: loss.detach(),
        correct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::{Backbone, BackboneSpec};
    use crate::config::{Balance, Strategy, TrainConfig};
    use crate::data::Dataset;
    use crate::rng::Rng;

    /// A fine-tuning run of MobileNetV2 (random weights) on 24 random images of 3 classes, with
    /// class weights, label smoothing and dropout: everything a shard must divide correctly.
    fn run() -> TrainingRun {
        let mut rng = Rng::new(11);
        let mut data = Dataset::new(3 * 224 * 224);
        for i in 0..24 {
            let row: Vec<f32> = (0..3 * 224 * 224).map(|_| rng.normal()).collect();
            // Unequal classes, so that class weights differ.
            let class = ["a", "b", "b", "c"][i % 4];
            data.add(&row, class).unwrap();
        }
        let device = burn::tensor::Device::flex().autodiff();
        let backbone = Backbone::build(&BackboneSpec::MobilenetV2, &mut rng, &device).unwrap();
        let config = TrainConfig {
            strategy: Strategy::Partial {
                trainable_blocks: 2,
            },
            balance: Balance::WeightedLoss,
            label_smoothing: 0.1,
            batch_size: 8,
            ..TrainConfig::default()
        };
        TrainingRun::new(config, backbone, data, None, &device).unwrap()
    }

    #[test]
    fn shards_add_up_to_the_whole_batch() {
        let mut run = run();
        run.fill_cache().unwrap();
        let frozen = run.model.frozen_prefix(run.trainable);
        let batch: Vec<usize> = run.split().train[..8].to_vec();
        assert_eq!(
            run.shards_for(8, frozen),
            shard_count(8, rayon::current_num_threads())
        );
        // One per thread, at least 4 examples each; one thread runs the batch whole.
        assert_eq!(
            [(8, 1), (8, 2), (8, 4), (7, 2), (16, 16), (3, 2)].map(|(n, t)| shard_count(n, t)),
            [1, 2, 2, 1, 4, 1]
        );
        let idx = index_tensor(&batch, &run.device);
        let x = run.cached_activations().unwrap().select(idx.clone());
        let y = run.labels.clone().select(0, idx);
        let weights = run.class_weights.clone().map(|w| w.select(0, y.clone()));
        let mut rng = Rng::new(5);
        let masks = run.model.head.dropout_masks(8, &mut rng, &run.device);
        let inputs = || BatchInputs {
            x: x.clone(),
            y: y.clone(),
            masks: masks.clone(),
            weights: weights.clone(),
        };
        let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
        let (whole_loss, whole_correct) = run.sharded_pass(inputs(), 8, frozen, 1);
        let whole = run.optimizer.take_pending();
        let (sharded_loss, sharded_correct) = run.sharded_pass(inputs(), 8, frozen, 2);
        let sharded = run.optimizer.take_pending();
        // The same batch spread over two devices: the CPU device twice, the most this machine
        // offers (each shard's replica forked onto its device, its gradients moved back).
        run.train_on_more_devices(&[burn::tensor::Device::flex()]);
        assert_eq!(run.shards_for(8, frozen), 2);
        assert_eq!(run.shards_for(1, frozen), 1);
        let (spread_loss, spread_correct) = run.sharded_pass(inputs(), 8, frozen, 2);
        let spread = run.optimizer.take_pending();
        let count = |c: Tensor<1, Int>| c.into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
        let whole_loss = read(whole_loss)[0];
        let whole_correct = count(whole_correct);
        for (loss, correct, grads) in [
            (sharded_loss, sharded_correct, sharded),
            (spread_loss, spread_correct, spread),
        ] {
            assert!((whole_loss - read(loss)[0]).abs() < 1e-5);
            assert_eq!(whole_correct, count(correct));
            // Every trainable parameter's gradient, the same within float rounding.
            assert!(
                whole.len() > 4 && whole.len() == grads.len(),
                "{} vs {}",
                whole.len(),
                grads.len()
            );
            for (path, g) in &whole {
                let (a, b) = (read(g.clone()), read(grads[path].clone()));
                let scale = a.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
                for (x, y) in a.iter().zip(&b) {
                    assert!((x - y).abs() <= 1e-4 * scale, "{path}: {x} vs {y}");
                }
            }
        }
    }
}
