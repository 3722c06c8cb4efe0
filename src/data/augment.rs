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
}
