//! What a sweep reports: one [`SweepRow`] per finished run — its scores, its gain over the
//! no-training baseline, and what it cost (time, memory, inference latency, file size) — and the
//! [`Leaderboard`] that ranks them.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::plan::EntrySplit;
use crate::config::TrainConfig;
use crate::data::image::Augment;
use crate::error::Result;
use crate::model::{Classifier, predict};
use crate::train::baseline::Baselines;
use crate::train::cross_validation::CrossValidation;
use crate::train::report::{EpochReport, Evaluation};
use crate::train::run::StopReason;

/// Examples in the batched latency measurement.
pub const LATENCY_BATCH: usize = 16;
/// The hardest validation examples a row keeps (the full list stays with the run).
const HARDEST_KEPT: usize = 20;

/// One finished run of a sweep. Scores are of the kept model (the epoch it names) on the
/// entry's validation examples — for the `All` split, on the training examples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// The entry's position in the plan.
    pub entry: usize,
    pub name: String,
    pub split: EntrySplit,
    pub config: TrainConfig,
    pub augment: Augment,
    /// How a recipe's augmentation was adapted to the examples (the entry's notes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub loss: f64,
    /// The kept epoch (0-based).
    pub kept_epoch: Option<usize>,
    pub epochs_run: usize,
    pub stop_reason: Option<StopReason>,
    /// The better of the two baselines on the same split (`None` for the `All` split).
    pub baseline_accuracy: Option<f64>,
    /// `(accuracy − baseline) × 100`: percentage points over the baseline.
    pub gain_points: Option<f64>,
    pub seconds: f64,
    pub seconds_per_epoch: f64,
    /// Mean wall time of a training step (batch).
    pub step_ms: f64,
    /// The run's estimated peak memory (the browser adds the measured wasm memory).
    pub estimated_peak_bytes: u64,
    /// Whether the run started from a cache another run computed.
    pub cache_reused: bool,
    /// One example through the kept model, and per example in a batch of `latency_batch`.
    pub inference_ms: f64,
    pub inference_ms_batched: f64,
    pub latency_batch: usize,
    /// The exported model file's size.
    pub model_bytes: usize,
    pub history: Vec<EpochReport>,
    /// The evaluation of the kept model (its hardest examples cut to the first 20).
    pub evaluation: Evaluation,
}

/// The sweep so far: the baselines, every finished row (in the order they ran) and their ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leaderboard {
    /// The baselines on the held-out split (for folds: the mean over the folds).
    pub baselines: Option<Baselines>,
    pub rows: Vec<SweepRow>,
    /// Positions in `rows`, best first: by accuracy, then macro-F1 (rows on held-out examples).
    pub ranking: Vec<usize>,
    /// Runs planned in all.
    pub planned: usize,
    /// For k-fold cross-validation: each fold's scores and their mean ± std, once every fold ran.
    pub cross_validation: Option<CrossValidation>,
    /// Chunks of frozen-prefix caches computed across the sweep (runs that adopt a cache add none).
    pub cache_chunks_computed: usize,
    /// For an Auto sweep: the recipes it compared and why (its choice is `ranking[0]`).
    #[serde(default)]
    pub auto: Option<crate::train::recipe::AutoPlan>,
}

/// Positions of `rows` held out on validation examples, best first.
pub fn ranking(rows: &[SweepRow]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].split != EntrySplit::All)
        .collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&rows[a], &rows[b]);
        b.accuracy
            .total_cmp(&a.accuracy)
            .then(b.macro_f1.total_cmp(&a.macro_f1))
            .then(a.entry.cmp(&b.entry))
    });
    order
}

/// `evaluation` with only the hardest examples a row keeps.
pub fn trimmed(mut evaluation: Evaluation) -> Evaluation {
    evaluation.hardest.truncate(HARDEST_KEPT);
    evaluation
}

/// Milliseconds `model` takes for one example (median of three calls, after a warm-up call) and
/// per example in a batch of [`LATENCY_BATCH`], predicting from `row` (one example's values).
pub async fn inference_latency(
    model: &Classifier,
    row: &[f32],
    device: &Device,
) -> Result<(f64, f64)> {
    predict(model, row, 1, device).await?;
    let mut single = Vec::with_capacity(3);
    for _ in 0..3 {
        let start = Instant::now();
        predict(model, row, 1, device).await?;
        single.push(start.elapsed().as_secs_f64() * 1e3);
    }
    single.sort_by(f64::total_cmp);
    let batch: Vec<f32> = row.repeat(LATENCY_BATCH);
    let start = Instant::now();
    predict(model, &batch, 1, device).await?;
    let batched = start.elapsed().as_secs_f64() * 1e3 / LATENCY_BATCH as f64;
    Ok((single[1], batched))
}
