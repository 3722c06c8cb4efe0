//! What a run needs at its peak, estimated before it starts, so that a run a browser tab cannot
//! hold is refused with what to change instead of trapping half-way: wasm32 addresses at most
//! 4 GiB, whatever the machine has.

use serde::Serialize;

use super::TrainingRun;
use super::frozen_prefix::CACHE_CHUNK;
use crate::error::{Error, Result};
use crate::model::ParamOwner;

/// The most a run may need in a browser tab: of wasm32's 4 GiB, the compiled module, the
/// allocator's pools and a long session's fragmentation take part. Natively there is none.
#[cfg(target_arch = "wasm32")]
pub const TAB_BUDGET_BYTES: Option<u64> = Some(3 << 30);
#[cfg(not(target_arch = "wasm32"))]
pub const TAB_BUDGET_BYTES: Option<u64> = None;

/// Values kept for the backward pass per value entering a trainable block: each convolution,
/// normalisation and activation keeps its input, and an inverted-residual block works at 6× its
/// input's channels (4 such tensors ≈ 24×). A rule of thumb that errs high for transformer layers.
const BACKWARD_VALUES_PER_INPUT: u64 = 24;

/// The largest decoded image the browser worker hands over: 384 × 1536 RGBA pixels.
const SUPPLIED_IMAGE_BYTES: u64 = 384 * 1536 * 4;

/// A run's peak memory, by what takes it (bytes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryEstimate {
    pub examples: usize,
    /// Blocks frozen when the most blocks train (the cache holds their output).
    pub frozen_blocks: usize,
    pub trainable_blocks: usize,
    /// The frozen prefix's activations of every example, twice while the last chunk joins them.
    pub cache_bytes: u64,
    /// The rows the data set holds itself (texts, feature vectors; none for images, which stay
    /// outside).
    pub example_bytes: u64,
    /// Every parameter, and the best epoch's and the last good epoch's copies of trained ones.
    pub weights_bytes: u64,
    /// Gradients and optimiser moments of the trained parameters.
    pub optimizer_bytes: u64,
    /// One batch: its inputs, and what the trainable blocks keep for the backward pass.
    pub batch_bytes: u64,
    pub total_bytes: u64,
}

fn mb(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1_000_000))
}

impl MemoryEstimate {
    /// An error naming what to change when the estimate exceeds `budget` bytes.
    pub fn check_fits(&self, budget: u64) -> Result<()> {
        if self.total_bytes <= budget {
            return Ok(());
        }
        let largest = [
            self.cache_bytes,
            self.batch_bytes,
            self.weights_bytes + self.optimizer_bytes,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let (field, advice) = if largest == self.cache_bytes {
            (
                "strategy",
                format!(
                    "{} of it is the cache of {} examples' activations after block {}: train fewer blocks \
                 (deeper activations are smaller: Quick or Balanced), or use fewer examples",
                    mb(self.cache_bytes),
                    self.examples,
                    self.frozen_blocks
                ),
            )
        } else if largest == self.batch_bytes {
            (
                "batch_size",
                format!(
                    "{} of it is one batch kept for the backward pass through {} trainable blocks: \
                 lower batch_size (raise accumulation_steps to keep the effective batch), or train fewer blocks",
                    mb(self.batch_bytes),
                    self.trainable_blocks
                ),
            )
        } else {
            (
                "strategy",
                format!(
                    "{} of it is the weights and optimiser state of {} trainable blocks: train fewer blocks",
                    mb(self.weights_bytes + self.optimizer_bytes),
                    self.trainable_blocks
                ),
            )
        };
        Err(Error::config(
            field,
            format!(
                "this run would need about {} at its peak, but a browser tab gives kindling at most {}; {advice}; \
             or train it with the command line (kindling train), which has no such limit. Nothing was changed.",
                mb(self.total_bytes),
                mb(budget)
            ),
        ))
    }
}

impl TrainingRun {
    /// The run's peak memory, estimated from the measured sizes of the backbone's activations
    /// (one example through every block), its parameters and the config.
    pub fn memory_estimate(&self) -> MemoryEstimate {
        let backbone = &self.model.backbone;
        let blocks = backbone.num_blocks();
        let trainable = (0..self.config.epochs)
            .map(|epoch| self.config.trainable_blocks(epoch, blocks))
            .max()
            .unwrap_or(0);
        let frozen = self.model.frozen_prefix(trainable);
        let sizes: Vec<u64> = backbone
            .activation_sizes(&self.device)
            .into_iter()
            .map(|s| s as u64)
            .collect();
        let at = |block: usize| sizes.get(block).copied().unwrap_or(0);
        let examples = self.data.len() as u64;
        let (mut all, mut trained) = (0u64, 0u64);
        for (path, tensor) in self.model.flat_params() {
            let values = tensor.dims()[0] as u64;
            all += values;
            if ParamOwner::of(&format!("{path}.")).trains(trainable, blocks) {
                trained += values;
            }
        }
        // A contrastive batch forwards three examples per anchor (anchor, partner, other).
        let batch = match self.fine_tunes_contrastively() {
            true => 3 * super::contrastive::anchors_per_batch(&self.config) as u64,
            false => self.config.batch_size as u64,
        };
        let input = self.data.dim() as u64;
        let kept_for_backward: u64 = (frozen..blocks)
            .map(|b| at(b) * BACKWARD_VALUES_PER_INPUT)
            .sum::<u64>()
            + self
                .config
                .head
                .hidden
                .iter()
                .map(|&h| h as u64)
                .sum::<u64>();
        let batch_inputs = match &self.augmenter {
            // The augmented rows, and the frozen prefix's largest activations twice over.
            Some(_) => input + 2 * (0..=frozen).map(at).max().unwrap_or(0),
            None => at(frozen),
        };
        // Rows supplied from outside arrive a cache chunk (or an augmented batch) at a time, as
        // decoded images (up to 384 × 1536 RGBA each, as the worker decodes them) and their rows.
        let supplied = if self.data.rows_held() {
            0
        } else {
            let images = match &self.augmenter {
                Some(_) => batch.max(CACHE_CHUNK as u64),
                None => CACHE_CHUNK as u64,
            };
            images * (input + SUPPLIED_IMAGE_BYTES / 4)
        };
        let float = 4;
        let cache_bytes = float * 2 * examples * at(frozen);
        let example_bytes = if self.data.rows_held() {
            float * examples * input
        } else {
            0
        };
        let weights_bytes = float * (all + 2 * trained);
        let moments = 3 + u64::from(self.config.accumulation_steps > 1);
        let optimizer_bytes = float * moments * trained;
        let batch_bytes = float * (batch * (kept_for_backward + batch_inputs)).max(supplied);
        MemoryEstimate {
            examples: self.data.len(),
            frozen_blocks: frozen,
            trainable_blocks: trainable,
            cache_bytes,
            example_bytes,
            weights_bytes,
            optimizer_bytes,
            batch_bytes,
            total_bytes: cache_bytes
                + example_bytes
                + weights_bytes
                + optimizer_bytes
                + batch_bytes,
        }
    }
}
