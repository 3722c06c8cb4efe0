//! One training batch: its forward and backward pass (whole, or in shards on several threads:
//! `shards.rs`) and the optimiser step once enough batches are pending.

use burn::tensor::{Int, Tensor};

use super::shards::BatchInputs;
use super::{TrainingRun, index_tensor};
use crate::backbone::Activations;
use crate::error::Result;
use crate::model::ParamOwner;
use crate::train::loss::{cross_entropy_per_example, reduce};

impl TrainingRun {
    /// Forward and backward pass of one batch; the gradients wait in the optimiser. Returns the
    /// batch's summed loss and number of correct predictions, still on the device.
    pub(super) fn forward_backward(
        &mut self,
        batch: &[usize],
    ) -> Result<(Tensor<1>, Tensor<1, Int>)> {
        let n = batch.len();
        let idx = index_tensor(batch, &self.device);
        let frozen = self.model.frozen_prefix(self.trainable);
        let x = match &self.augmenter {
            Some(aug) if aug.augments_elsewhere() => {
                let rows = self.take_supplied(batch)?;
                self.frozen_forward(rows, n, frozen)
            }
            Some(aug) => {
                let rows: Vec<f32> = batch
                    .iter()
                    .flat_map(|&i| aug.augment(i, &mut self.rng))
                    .collect();
                self.frozen_forward(rows, n, frozen)
            }
            None => {
                let x = self.cached_activations()?.select(idx.clone());
                self.trimmed_to_batch(x, batch)
            }
        };
        let y = self.labels.clone().select(0, idx);
        let masks = self
            .model
            .head
            .dropout_masks(n, &mut self.rng, &self.device);
        let weights = self
            .class_weights
            .as_ref()
            .map(|w| w.clone().select(0, y.clone()));
        let shards = self.shards_for(n, frozen);
        if shards > 1 {
            let inputs = BatchInputs {
                x,
                y,
                masks,
                weights,
            };
            let (loss, correct) = self.sharded_pass(inputs, n, frozen, shards);
            return Ok((loss * n as f64, correct));
        }
        let logits = self.model.forward_from(x, frozen, masks.as_deref(), true);
        let per_example =
            cross_entropy_per_example(logits.clone(), y.clone(), self.config.label_smoothing);
        let loss = reduce(per_example, weights);
        self.optimizer.accumulate(&self.model, &loss.backward());
        let correct = logits.detach().argmax(1).reshape([n]).equal(y).int().sum();
        Ok((loss.detach() * n as f64, correct))
    }

    /// `x`, the cached activations of `examples`, trimmed to their longest text when the backbone
    /// reads text (the cache is padded to the longest of the whole data set): each batch then
    /// costs what its own texts do, as batches computed from their rows do.
    pub(super) fn trimmed_to_batch(&self, x: Activations, examples: &[usize]) -> Activations {
        let backbone = &self.model.backbone;
        let longest = examples.iter().try_fold(0, |longest: usize, &i| {
            Some(longest.max(backbone.tokens_in(self.data.row(i))?))
        });
        match longest {
            Some(len) => x.truncated(len.max(1)),
            None => x,
        }
    }

    /// One optimiser step with the accumulated gradients, each parameter group at its rate.
    pub(super) fn apply_gradients(&mut self) {
        if self.optimizer.pending_batches() == 0 {
            // A contrastive epoch without trainable blocks: no step, so schedules do not move.
            return;
        }
        let lr_by_owner: Vec<(ParamOwner, f64)> = (0..self.model.backbone.num_blocks())
            .map(|i| (ParamOwner::Block(i), self.lr_of(ParamOwner::Block(i))))
            .chain([(ParamOwner::Head, self.lr_of(ParamOwner::Head))])
            .collect();
        let lr_of = move |owner: ParamOwner| {
            lr_by_owner
                .iter()
                .find(|(o, _)| *o == owner)
                .map_or(0.0, |(_, lr)| *lr)
        };
        let model = self.model.clone();
        self.model = self.optimizer.step(model, &lr_of, &self.anchors);
        self.optimizer_steps += 1;
    }
}
