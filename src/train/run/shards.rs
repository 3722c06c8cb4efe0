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

use burn::module::Module;
use burn::tensor::{Gradients, Int, Tensor};

use super::TrainingRun;
use super::index_tensor;
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
    /// How many shards a batch of `n` examples runs in: when blocks of the backbone train on the
    /// CPU device, one per thread of the pool it runs in, as far as each gets
    /// [`MIN_SHARD_EXAMPLES`]; else 1.
    pub(super) fn shards_for(&self, n: usize, frozen: usize) -> usize {
        let fine_tunes = frozen < self.model.backbone.num_blocks();
        let cpu = self.device.clone().inner() == burn::tensor::Device::flex();
        if fine_tunes && cpu {
            shard_count(n, rayon::current_num_threads())
        } else {
            1
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
        let parts: Vec<(Classifier, BatchInputs)> = (0..shards)
            .map(|s| {
                let rows: Vec<usize> = (s * n / shards..(s + 1) * n / shards).collect();
                let idx = index_tensor(&rows, &self.device);
                let part = BatchInputs {
                    x: inputs.x.select(idx.clone()),
                    y: inputs.y.clone().select(0, idx.clone()),
                    masks: inputs.masks.as_ref().map(|masks| {
                        masks
                            .iter()
                            .map(|m| m.clone().select(0, idx.clone()))
                            .collect()
                    }),
                    weights: inputs.weights.clone().map(|w| w.select(0, idx)),
                };
                (self.model.clone().fork(&self.device), part)
            })
            .collect();
        let smoothing = self.config.label_smoothing;
        let passes = run_all(parts, &|(model, part)| {
            shard_pass(model, part, &total, frozen, smoothing)
        });
        let mut loss: Option<Tensor<1>> = None;
        let mut correct: Option<Tensor<1, Int>> = None;
        for pass in passes {
            self.optimizer.add_gradients(&pass.model, &pass.grads);
            loss = Some(loss.map_or(pass.loss.clone(), |l| l + pass.loss));
            correct = Some(correct.map_or(pass.correct.clone(), |c| c + pass.correct));
        }
        self.optimizer.batch_added();
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
        assert!((read(whole_loss)[0] - read(sharded_loss)[0]).abs() < 1e-5);
        assert_eq!(
            whole_correct
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .unwrap(),
            sharded_correct
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .unwrap()
        );
        // Every trainable parameter's gradient, the same within float rounding.
        assert!(
            whole.len() > 4 && whole.len() == sharded.len(),
            "{}",
            whole.len()
        );
        for (path, g) in whole {
            let (a, b) = (read(g), read(sharded[&path].clone()));
            let scale = a.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-4 * scale, "{path}: {x} vs {y}");
            }
        }
    }
}
