//! Contrastive fine-tuning (`fine_tune_loss: contrastive`), SetFit's recipe for few examples
//! (Tunstall et al., 2022): the trainable blocks learn from pairs of training examples — each
//! anchor with one example of its own class (target similarity 1) and one of another (target 0),
//! the loss the squared gap between the cosine similarity of the pair's pooled features and its
//! target — and the linear head is solved on the features as they stand after every epoch.
//!
//! Why pairs: with 30 examples per class, a head's cross-entropy back through the blocks has 30
//! targets per class to fit and overfits them (README, Model quality: Balanced is below the
//! frozen baseline on movie snippets); n examples give n² pairs, and a pair's target says how
//! the features should be arranged, not what the head should output, so the blocks reshape the
//! space the solved head then separates. The epoch's report gives the solved head's training
//! loss and accuracy, so divergence and the best epoch are judged as for any other run.

use burn::tensor::{Int, Tensor, TensorData};

use super::probe::MAX_PROBE_ITERATIONS;
use super::state::EpochInProgress;
use super::{TrainingRun, index_tensor};
use crate::backbone::unit_rows;
use crate::config::{FineTuneLoss, Strategy, TrainConfig};
use crate::error::Result;
use crate::train::report::EpochReport;

/// Anchors per batch: each gives two pairs, so a batch holds about `batch_size` pairs (SetFit
/// counts its batch in pairs) and forwards 1.5 × `batch_size` examples.
pub(super) fn anchors_per_batch(config: &TrainConfig) -> usize {
    match (config.fine_tune_loss, &config.strategy) {
        (FineTuneLoss::Contrastive, s) if *s != Strategy::FeatureExtraction => {
            (config.batch_size / 2).max(1)
        }
        _ => config.batch_size,
    }
}

/// A batch's pairs: positions in `rows` (the examples to forward: an anchor's partners may be
/// anchors too, forwarded again) and the target similarity.
struct Pairs {
    rows: Vec<usize>,
    left: Vec<usize>,
    right: Vec<usize>,
    targets: Vec<f32>,
}

impl TrainingRun {
    /// Whether blocks train, and learn from pairs.
    pub(super) fn fine_tunes_contrastively(&self) -> bool {
        self.config.fine_tune_loss == FineTuneLoss::Contrastive
            && self.config.strategy != Strategy::FeatureExtraction
    }

    /// Forward and backward of one batch of `anchors`' pairs; the gradients (of the trainable
    /// blocks only: the head is not in the loss) wait in the optimiser. Returns the batch's summed
    /// pair loss and the pairs whose similarity is on their target's side of 0.5.
    pub(super) fn pair_pass(&mut self, anchors: &[usize]) -> Result<(Tensor<1>, Tensor<1, Int>)> {
        let frozen = self.model.frozen_prefix(self.trainable);
        let blocks = self.model.backbone.num_blocks();
        let device = self.device.clone();
        let nothing = move || (Tensor::zeros([1], &device), Tensor::zeros([1], &device));
        if frozen == blocks {
            // Nothing trains this epoch (gradual unfreezing has not reached a block yet): the
            // epoch only solves the head again.
            return Ok(nothing());
        }
        let pairs = self.draw_pairs(anchors);
        let count = pairs.targets.len();
        if count == 0 {
            return Ok(nothing());
        }
        let x = self
            .cached_activations()?
            .select(index_tensor(&pairs.rows, &self.device));
        let x = self.trimmed_to_batch(x, &pairs.rows);
        let features = self
            .model
            .backbone
            .forward_blocks(x, frozen..blocks, true)
            .into_features();
        let unit = unit_rows(features);
        let left = unit
            .clone()
            .select(0, index_tensor(&pairs.left, &self.device));
        let right = unit.select(0, index_tensor(&pairs.right, &self.device));
        let similarity = (left * right).sum_dim(1).reshape([count]);
        let targets = Tensor::<1>::from_data(
            TensorData::new(pairs.targets.clone(), [count]),
            &self.device,
        );
        let loss = (similarity.clone() - targets.clone()).powi_scalar(2).mean();
        self.optimizer.accumulate(&self.model, &loss.backward());
        let agrees = similarity
            .detach()
            .greater_elem(0.5)
            .equal(targets.greater_elem(0.5))
            .int()
            .sum();
        Ok((loss.detach() * count as f64, agrees))
    }

    /// For each anchor: a partner of its class (another training example, where the class has
    /// one) and one of another class, drawn with the run's generator.
    fn draw_pairs(&mut self, anchors: &[usize]) -> Pairs {
        let labels = self.data.labels();
        let mut by_class = vec![Vec::new(); self.data.num_classes()];
        for &i in &self.split.train {
            by_class[labels[i]].push(i);
        }
        let mut pairs = Pairs {
            rows: Vec::with_capacity(3 * anchors.len()),
            left: Vec::new(),
            right: Vec::new(),
            targets: Vec::new(),
        };
        for &anchor in anchors {
            let class = labels[anchor];
            let own = &by_class[class];
            let at = pairs.rows.len();
            pairs.rows.push(anchor);
            if let Some(place) = own
                .iter()
                .position(|&j| j == anchor)
                .filter(|_| own.len() > 1)
            {
                // Uniform over the class's other members: skip the anchor's own place.
                let k = self.rng.below(own.len() - 1);
                pairs.rows.push(own[if k >= place { k + 1 } else { k }]);
                pairs.left.push(at);
                pairs.right.push(at + 1);
                pairs.targets.push(1.0);
            }
            let others = self.split.train.len().saturating_sub(own.len());
            if others > 0 {
                // Uniform over the training examples of other classes: the k-th of them.
                let mut k = self.rng.below(others);
                let other = by_class
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| c != class)
                    .find_map(|(_, members)| match members.get(k) {
                        Some(&j) => Some(j),
                        None => {
                            k -= members.len();
                            None
                        }
                    });
                if let Some(other) = other {
                    pairs.rows.push(other);
                    pairs.left.push(at);
                    pairs.right.push(pairs.rows.len() - 1);
                    pairs.targets.push(0.0);
                }
            }
        }
        pairs
    }

    /// The end of a contrastive epoch: the head solved on every example's features as the blocks
    /// now make them (from the last epoch's solution), then the epoch judged as any other.
    pub(super) async fn end_contrastive_epoch(
        &mut self,
        epoch: EpochInProgress,
    ) -> Result<EpochReport> {
        let features = self.backbone_features()?;
        let fit = self.start_convex_fit(features, true).await?;
        let (totals, _) = self.iterate_into_head(fit, MAX_PROBE_ITERATIONS).await?;
        let ended = EpochInProgress::ended(totals, epoch.started, epoch.batches());
        let report = self.end_epoch(ended).await;
        self.convex = None;
        report
    }
}
