//! The frozen prefix of the backbone: its activations for every example, cached while it stays
//! frozen, and its forward pass for augmented batches — on the host-memory plan where the
//! device is the CPU (`backbone::cpu_convnet`), through burn elsewhere.

use super::Trainer;
use crate::backbone::{Activations, CpuConvPlan};

/// Examples per forward pass when caching activations or evaluating.
pub(super) const EVAL_CHUNK: usize = 256;

/// Backbone activations of every example after the frozen prefix, computed once while that
/// prefix stays frozen (nothing random runs before it).
pub(super) struct ActivationCache {
    frozen_blocks: usize,
    all: Activations,
}

/// The host-memory plan of the frozen prefix (`None` where none applies), for its length.
pub(super) struct CpuPlanCache {
    frozen_blocks: usize,
    plan: Option<CpuConvPlan>,
}

impl Trainer {
    /// Activations of every example after the frozen prefix, (re)computed when the prefix changed.
    pub(super) fn cached_activations(&mut self) -> Activations {
        let frozen = self.model.frozen_prefix(self.trainable);
        if let Some(cache) = self.cache.as_ref().filter(|c| c.frozen_blocks == frozen) {
            return cache.all.clone();
        }
        let all: Vec<usize> = (0..self.data.len()).collect();
        let parts = all
            .chunks(EVAL_CHUNK)
            .map(|chunk| self.frozen_forward(self.data.gather(chunk), chunk.len(), frozen))
            .collect();
        let acts = Activations::cat(parts);
        self.cache = Some(ActivationCache {
            frozen_blocks: frozen,
            all: acts.clone(),
        });
        acts
    }

    /// Blocks `0..frozen` on `n` input rows, in inference mode and recording no gradients.
    pub(super) fn frozen_forward(
        &mut self,
        rows: Vec<f32>,
        n: usize,
        frozen: usize,
    ) -> Activations {
        let stale = self
            .cpu_plan
            .as_ref()
            .is_none_or(|c| c.frozen_blocks != frozen);
        if stale {
            // The frozen blocks' weights cannot change while they stay frozen, so the copy the
            // plan holds stays right until the prefix changes length.
            self.cpu_plan = Some(CpuPlanCache {
                frozen_blocks: frozen,
                plan: self.model.backbone.cpu_plan(frozen, &self.device),
            });
        }
        if let Some(plan) = self.cpu_plan.as_ref().and_then(|c| c.plan.as_ref()) {
            return plan.forward(&rows, n, &self.device);
        }
        let x = self.model.backbone.input(rows, n, &self.device);
        self.model
            .backbone
            .forward_blocks(x, 0..frozen, false)
            .detach()
    }
}
