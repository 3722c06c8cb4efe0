//! The model a run keeps: what is evaluated, exported and asked for predictions before or after
//! it ends, and which epoch's weights those are.

use super::TrainingRun;
use super::state::{Phase, StopReason};
use crate::model::Classifier;

impl TrainingRun {
    /// The weights kept if the run ended now: the best epoch's where early stopping watches
    /// (the end of a run restores them), else the last completed epoch's. A run stopped
    /// mid-epoch is judged, exported and asked for predictions by these, not by its
    /// half-trained weights.
    pub fn kept_model(&self) -> &Classifier {
        match (&self.best.best, &self.config.early_stopping, &self.phase) {
            (_, _, Phase::Finished(_)) => &self.model,
            (Some(best), Some(_), _) => &best.model,
            (_, _, Phase::InEpoch(_)) => &self.last_good,
            _ => &self.model,
        }
    }

    /// The epoch (0-based) of `kept_model`'s weights; `None` for the weights before any epoch.
    pub fn kept_epoch(&self) -> Option<usize> {
        let last = self.epoch.checked_sub(1);
        match (&self.best.best, &self.config.early_stopping, &self.phase) {
            (_, _, Phase::Finished(StopReason::Diverged { epoch, .. })) => epoch.checked_sub(1),
            (Some(best), Some(_), _) => Some(best.epoch),
            _ => last,
        }
    }

    /// The epoch whose weights are kept when training ends (early stopping restores it).
    pub fn best_epoch(&self) -> Option<usize> {
        self.best.epoch()
    }
}
