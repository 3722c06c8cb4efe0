//! Linear probing before fine-tuning (`head_init: probe`, LP-FT): the run's first epoch solves the
//! linear head on the whole pretrained backbone's features — the convex fit, run to its optimum —
//! and the blocks start training under it in the next epoch. Contrastive fine-tuning starts with
//! the same probe (`contrastive`).

use burn::module::Module;
use burn::tensor::Tensor;
use web_time::Instant;

use super::convex::MAX_CONVEX_ELEMENTS;
use super::frozen_prefix::EVAL_CHUNK;
use super::{TrainingRun, index_tensor};
use crate::config::HeadInit;
use crate::error::{Error, Result};
use crate::train::report::EpochReport;

/// The most L-BFGS iterations the probe takes (it runs in one step; the convex fit of the
/// benchmark's sets converges in 50–70).
pub(super) const MAX_PROBE_ITERATIONS: usize = 300;

impl TrainingRun {
    /// Whether the next epoch is the probe: asked for (or fine-tuning is contrastive), and no
    /// epoch has run yet. An error when the run cannot probe (the config's own checks are in
    /// `TrainConfig::validate`).
    pub(super) fn probes_now(&self) -> Result<bool> {
        let contrastive = self.fine_tunes_contrastively();
        if (self.config.head_init != HeadInit::Probe && !contrastive) || self.epoch > 0 {
            return Ok(false);
        }
        let why = if self.augmenter.is_some() {
            Some("the run augments its examples, so their features are not cached")
        } else if self
            .data
            .len()
            .checked_mul(self.data.num_classes())
            .is_none_or(|e| e > MAX_CONVEX_ELEMENTS)
        {
            Some("its examples × classes exceed what one full-batch evaluation holds (2^24)")
        } else {
            None
        };
        match (why, contrastive) {
            (None, _) => Ok(true),
            (Some(why), false) => Err(Error::config(
                "head_init",
                format!(
                    "'probe' solves the linear head on every example's features first, but {why}; use 'random'"
                ),
            )),
            (Some(why), true) => Err(Error::config(
                "fine_tune_loss",
                format!(
                    "'contrastive' solves the linear head on every example's features after each epoch, but {why}; use 'cross_entropy'"
                ),
            )),
        }
    }

    /// The probe epoch: the head solved on the backbone's features to convergence (or
    /// [`MAX_PROBE_ITERATIONS`]), reported and validated as an epoch, so the best-epoch tracker
    /// keeps it when fine-tuning never beats it.
    pub(super) async fn probe_epoch(&mut self) -> Result<EpochReport> {
        let started = Instant::now();
        let features = self.backbone_features()?;
        let fit = self.start_convex_fit(features, true).await?;
        let ended = self
            .iterate_and_end_epoch(fit, MAX_PROBE_ITERATIONS, started)
            .await;
        self.convex = None;
        // Divergence is judged against the first epoch that trains blocks: the probe's optimum
        // is a far lower training loss than any epoch with dropout and moving features.
        self.first_loss = None;
        ended
    }

    /// Every example's features at the backbone's output, without autodiff: the cache of the
    /// frozen prefix carried through the trainable blocks at their current (pretrained) weights.
    pub(super) fn backbone_features(&mut self) -> Result<Tensor<2>> {
        let cached = self.cached_activations()?;
        let frozen = self.model.frozen_prefix(self.trainable);
        let blocks = self.model.backbone.num_blocks();
        if frozen == blocks {
            return Ok(cached.into_features().inner());
        }
        let backbone = self.model.valid().backbone;
        let all: Vec<usize> = (0..self.data.len()).collect();
        let chunks = all
            .chunks(EVAL_CHUNK)
            .map(|chunk| {
                let x = cached.select(index_tensor(chunk, &self.device)).inner();
                let x = self.trimmed_to_batch(x, chunk);
                backbone
                    .forward_blocks(x, frozen..blocks, false)
                    .into_features()
            })
            .collect();
        Ok(Tensor::cat(chunks, 0))
    }
}
