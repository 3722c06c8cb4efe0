//! What training reports: one record per epoch, and the full evaluation of a model on a set.

use serde::{Deserialize, Serialize};

use super::calibration::Calibration;
use super::metrics::ClassificationReport;

/// Progress and metrics after one epoch. Times are in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 0-based epoch index.
    pub epoch: usize,
    pub epochs: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub val_macro_f1: f64,
    pub val_top_k_accuracy: f64,
    /// The head's learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// Rates of the trainable backbone blocks, lowest block first (empty when frozen).
    pub block_learning_rates: Vec<f64>,
    /// Backbone blocks that trained during this epoch.
    pub trainable_blocks: usize,
    pub examples_per_second: f64,
    /// Mean wall time of one training batch (including validation's share of the epoch).
    pub step_ms: f64,
    pub epoch_seconds: f64,
    pub elapsed_seconds: f64,
    pub eta_seconds: f64,
    /// Set on the epoch where training ended early: why, and what was kept.
    pub stopped: Option<String>,
}

/// One example's loss, to list likely mislabelled examples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleLoss {
    /// Index of the example in the data set.
    pub index: usize,
    pub label: usize,
    pub predicted: usize,
    pub loss: f64,
}

/// Evaluation of a model on the validation set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The epoch (0-based) whose weights were measured; `None` for the weights before any epoch.
    pub epoch: Option<usize>,
    pub loss: f64,
    pub top_k: usize,
    pub top_k_accuracy: f64,
    pub report: ClassificationReport,
    /// Validation examples by decreasing loss (all of them).
    pub hardest: Vec<ExampleLoss>,
    /// The expected calibration error of these probabilities (15 bins; 0 = every confidence
    /// matches its accuracy).
    #[serde(default)]
    pub expected_calibration_error: f64,
    /// What temperature scaling did when the run ended (absent before then).
    #[serde(default)]
    pub calibration: Option<Calibration>,
}
