//! What `kindling train` writes and prints: the metrics JSON, files written whole (beside, then
//! renamed), and the per-epoch table.

use std::path::Path;

use kindling::train::EpochReport;
use kindling::train::baseline::Baselines;
use kindling::{Error, Result};
use serde::Serialize;

/// What `--metrics` holds for one run or a k-fold cross-validation.
#[derive(Serialize)]
pub struct Metrics<'a> {
    pub history: &'a [EpochReport],
    /// Nearest centroid and k-NN on the frozen features (runs whose backbone stays frozen).
    pub baselines: Option<Baselines>,
    pub stopped: Option<String>,
    pub interrupted: bool,
    pub evaluation: Option<kindling::train::Evaluation>,
    pub cross_validation: Option<kindling::train::cross_validation::CrossValidation>,
    /// The kept model on the held-out data of `--test`.
    pub test: Option<crate::held_out::TestScore>,
    pub examples: usize,
    pub classes: &'a [String],
}

pub fn write_file(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    // Written beside and renamed, so an interrupted write never leaves half a file.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| Error::Data(format!("cannot write the {what} {}: {e}", path.display())))
}

pub fn write_metrics(path: Option<&Path>, metrics: &Metrics) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let json = serde_json::to_vec_pretty(metrics)
        .map_err(|e| Error::State(format!("internal: metrics: {e}")))?;
    write_file(path, &json, "metrics")
}

pub fn print_epoch(r: &EpochReport) {
    println!(
        "{:>5} {:>10.4} {:>9.1}% {:>10.4} {:>9.1}% {:>8.3} {:>9.0} {:>7.1}s",
        r.epoch + 1,
        r.train_loss,
        100.0 * r.train_accuracy,
        r.val_loss,
        100.0 * r.val_accuracy,
        r.val_macro_f1,
        r.examples_per_second,
        r.epoch_seconds
    );
}

pub fn print_epoch_header() {
    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>10} {:>8} {:>9} {:>8}",
        "epoch", "train loss", "train acc", "val loss", "val acc", "macro-F1", "ex/s", "time"
    );
}
