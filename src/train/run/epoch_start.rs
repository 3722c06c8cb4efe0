//! The start of an epoch: the trainable blocks for it (gradual unfreezing) and its batch order
//! (shuffled, or drawn class-balanced).

use super::TrainingRun;
use super::state::EpochInProgress;
use crate::config::Balance;

impl TrainingRun {
    /// Sets the trainable blocks for epoch `self.epoch` (gradual unfreezing).
    pub(super) fn apply_unfreezing(&mut self) {
        let num_blocks = self.model.backbone.num_blocks();
        let trainable = self.config.trainable_blocks(self.epoch, num_blocks);
        if trainable != self.trainable {
            self.model = self.model.clone().with_trainable_blocks(trainable);
            self.trainable = trainable;
        }
    }

    /// Starts epoch `self.epoch`: draws the batch order.
    pub(super) fn start_epoch(&mut self) -> EpochInProgress {
        let rng_at_start = self.rng.clone();
        let order = match self.config.balance {
            Balance::Sampling => {
                let mut per_class = vec![Vec::new(); self.data.num_classes()];
                for &i in &self.split.train {
                    per_class[self.data.labels()[i]].push(i);
                }
                per_class.retain(|c| !c.is_empty());
                (0..self.split.train.len())
                    .map(|_| {
                        let class = &per_class[self.rng.below(per_class.len())];
                        class[self.rng.below(class.len())]
                    })
                    .collect()
            }
            _ => {
                let mut order = self.split.train.clone();
                self.rng.shuffle(&mut order);
                order
            }
        };
        let batch = super::contrastive::anchors_per_batch(&self.config);
        EpochInProgress::new(order, batch, rng_at_start)
    }
}
