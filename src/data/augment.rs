//! The augmentation hook between a modality's data and a training run: it lives with the data
//! (images and texts implement it) so that the training engine depends on data, not the reverse.

use crate::rng::Rng;

/// Produces freshly augmented inputs for training examples (the image and text modalities fill
/// it). While one is set, training batches run the frozen prefix on its output every step
/// instead of reading the activation cache; validation still sees the plain inputs.
pub trait Augmenter {
    /// The input row of example `index` for one training step.
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32>;

    /// The settings, as text that differs whenever the augmentation does: a checkpoint records
    /// it, so a run is restored only with the augmentation it was trained with.
    fn settings(&self) -> String;

    /// Whether training batches come already augmented from where the examples are kept (a
    /// browser decodes and augments its images outside wasm memory; see
    /// [`AugmentedElsewhere`]): the run then asks for each batch's rows instead of calling
    /// `augment`.
    fn augments_elsewhere(&self) -> bool {
        false
    }
}

/// Augmentation done by whoever keeps the examples: a run with it asks for every training
/// batch's rows, augmented (`TrainingRun::input_request`), and records `settings` in its
/// checkpoints like any augmenter's.
pub struct AugmentedElsewhere {
    pub settings: String,
}

impl Augmenter for AugmentedElsewhere {
    /// Never called (`augments_elsewhere` is true): the rows come with the batch.
    fn augment(&self, _index: usize, _rng: &mut Rng) -> Vec<f32> {
        Vec::new()
    }

    fn settings(&self) -> String {
        self.settings.clone()
    }

    fn augments_elsewhere(&self) -> bool {
        true
    }
}
