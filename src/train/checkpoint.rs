//! Checkpoints: everything a run needs to continue exactly where it stopped — weights (current
//! and best), optimiser moments, schedule position, epoch, generator state and history — in one
//! safetensors file. Tensors are read back with one asynchronous transaction, so this works in
//! the browser, where synchronous reads panic.

use std::collections::HashMap;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::report::EpochReport;
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::model::param_file::{read_description, read_tensors, write_tensors};
use crate::rng::Rng;

/// The scalar part of a checkpoint (stored as JSON in the safetensors header).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub config: TrainConfig,
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub rng: Rng,
    pub trainable: usize,
    pub epoch: usize,
    pub optimizer_steps: usize,
    pub first_loss: Option<f64>,
    pub best: Option<(f64, usize)>,
    pub bad_epochs: usize,
    pub elapsed: f64,
    pub finished: bool,
    /// Why a finished run stopped (absent in checkpoints of older versions).
    #[serde(default)]
    pub stop_reason: Option<crate::train::run::StopReason>,
    pub history: Vec<EpochReport>,
    /// Optimiser state tensor name -> its step count.
    pub moment_steps: HashMap<String, u64>,
    /// Fingerprint of the examples (count and class names), to refuse resuming on other data.
    pub examples: usize,
    pub classes: Vec<String>,
    /// The run's augmentation settings (`Augmenter::settings`), if it had one; absent in
    /// checkpoints of older versions.
    #[serde(default)]
    pub augmentation: Option<String>,
    /// What temperature scaling did at the end of a finished run (absent before, and in
    /// checkpoints of older versions).
    #[serde(default)]
    pub calibration: Option<crate::train::calibration::Calibration>,
    /// The examples' fingerprint (absent in checkpoints of older versions).
    #[serde(default)]
    pub examples_fingerprint: Option<String>,
}

pub const FORMAT: u32 = 1;
const META_KEY: &str = "kindling.checkpoint";

/// Serialises `meta` and the named tensors (read back in one transaction).
pub async fn write(meta: &CheckpointMeta, tensors: Vec<(String, Tensor<1>)>) -> Result<Vec<u8>> {
    let meta_json = serde_json::to_string(meta)
        .map_err(|e| Error::State(format!("internal: checkpoint metadata: {e}")))?;
    write_tensors(META_KEY, meta_json, tensors).await
}

/// A parsed checkpoint: metadata and flat f32 tensors by name.
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub tensors: HashMap<String, Vec<f32>>,
}

/// The settings a checkpoint's run trains with (its description alone is read): a restore loads
/// its backbone on `training_device(…, &config)`.
pub fn read_config(bytes: &[u8]) -> Result<TrainConfig> {
    let meta_json = read_description(bytes, META_KEY, "checkpoint")?;
    let meta: CheckpointMeta = serde_json::from_str(&meta_json)
        .map_err(|e| Error::Data(format!("this is not a kindling checkpoint ({e})")))?;
    Ok(meta.config)
}

/// Parses checkpoint bytes, explaining what is wrong with a file that is not one.
pub fn read(bytes: &[u8]) -> Result<Checkpoint> {
    let (meta_json, tensors) = read_tensors(bytes, META_KEY, "checkpoint")?;
    let meta: CheckpointMeta = serde_json::from_str(&meta_json)
        .map_err(|e| Error::Data(format!("this is not a kindling checkpoint ({e})")))?;
    if meta.format != FORMAT {
        return Err(Error::Data(format!(
            "this checkpoint has format {} but this kindling reads format {FORMAT}",
            meta.format
        )));
    }
    Ok(Checkpoint { meta, tensors })
}
