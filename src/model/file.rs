//! The model file: one safetensors file with the fine-tuned weights (every trained parameter of
//! backbone and head, without the ImageNet classifier), and in its header the class names, head,
//! preprocessing, training config and the identity (hash) of the pretrained weights it started
//! from. Importing needs those same pretrained weights (they carry the BatchNorm statistics,
//! which training never changes); a mismatch is refused with both fingerprints. Written with
//! one asynchronous read-back, so export works in the browser.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::head::valid_temperature;
use super::param_file::{Precision, load_params, read_description, read_tensors, write_tensors_as};
use super::{Classifier, Head};
use crate::backbone::{Backbone, BackboneSpec};
use crate::config::TrainConfig;
use crate::data::image::Preprocess;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::rng::Rng;

const META_KEY: &str = "kindling.model";
/// The most classes a model file may name (each is a row of the head's last layer).
pub const MAX_CLASSES: usize = 10_000;
pub const FORMAT: u32 = 1;

/// Everything about a trained model except its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub format: u32,
    pub kindling_version: String,
    pub backbone: BackboneSpec,
    /// FNV-1a 64 of the pretrained weight bytes the model was trained from (hex), if any.
    pub backbone_hash: Option<String>,
    pub classes: Vec<String>,
    pub preprocess: Option<Preprocess>,
    pub config: TrainConfig,
    /// The temperature the head's logits are divided by (calibration); absent = 1, as in files
    /// of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The text encoder's head reads every layer pooled (`TextFeatures::EveryLayer`, as the
    /// run resolved it); absent = the last layer only, as in files of older versions.
    #[serde(default)]
    pub every_layer: bool,
}

impl ModelInfo {
    /// The description of a model of `backbone` trained from the `pretrained` weight bytes (if
    /// any) with `config`, naming `classes` in label order.
    pub fn new(
        backbone: BackboneSpec,
        pretrained: Option<&[u8]>,
        classes: Vec<String>,
        config: TrainConfig,
    ) -> Self {
        Self {
            format: FORMAT,
            kindling_version: env!("CARGO_PKG_VERSION").to_string(),
            preprocess: backbone.preprocess(),
            backbone,
            backbone_hash: pretrained.map(weights_hash),
            classes,
            config,
            temperature: None,
            every_layer: false,
        }
    }
}

/// A stable fingerprint of weight bytes, to tell backbones apart.
pub fn weights_hash(bytes: &[u8]) -> String {
    Fingerprint::of(bytes)
}

fn exported(path: &str) -> bool {
    !path.contains(".classifier.")
}

/// Serialises `model` with `info` (f32 values).
pub async fn export(model: &Classifier, info: &ModelInfo) -> Result<Vec<u8>> {
    export_as(model, info, Precision::F32).await
}

/// Serialises `model` with `info`, its values at `precision` (f16: half the file; imports as
/// usual, each weight rounded to half precision).
pub async fn export_as(
    model: &Classifier,
    info: &ModelInfo,
    precision: Precision,
) -> Result<Vec<u8>> {
    let tensors = model
        .flat_params()
        .into_iter()
        .filter(|(p, _)| exported(p))
        .map(|(p, t)| (p, t.inner()))
        .collect();
    let info = ModelInfo {
        temperature: (model.head.temperature != 1.0).then_some(model.head.temperature),
        every_layer: model.backbone.pools_every_layer(),
        ..info.clone()
    };
    let json = serde_json::to_string(&info)
        .map_err(|e| Error::State(format!("internal: model metadata: {e}")))?;
    write_tensors_as(META_KEY, json, tensors, precision).await
}

/// Refuses class lists that no training could have produced: fewer than 2, more than
/// [`MAX_CLASSES`], empty or repeated names.
fn check_classes(classes: &[String]) -> Result<()> {
    if classes.len() < 2 || classes.len() > MAX_CLASSES {
        return Err(Error::Data(format!(
            "this model file names {} classes; a model has 2 to {MAX_CLASSES}",
            classes.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for name in classes {
        if name.trim().is_empty() || !seen.insert(name.as_str()) {
            return Err(Error::Data(format!(
                "this model file names the class '{name}' twice or empty; its class list is damaged"
            )));
        }
    }
    Ok(())
}

/// The description of a model file (its backbone, classes, settings), without its weights.
pub fn describe(bytes: &[u8]) -> Result<ModelInfo> {
    let json = read_description(bytes, META_KEY, "model file")?;
    let info: ModelInfo = serde_json::from_str(&json)
        .map_err(|e| Error::Data(format!("this model file's description is unreadable ({e})")))?;
    if info.format != FORMAT {
        return Err(Error::Data(format!(
            "this model file has format {} but this kindling reads format {FORMAT}",
            info.format
        )));
    }
    Ok(info)
}

/// Reads a model file. `expected` is the backbone the caller works with and `pretrained` its
/// weights: a file made from another architecture or other pretrained weights is refused with
/// what differs. The pretrained weights supply what training never changes (BatchNorm running
/// statistics); every trained parameter comes from the file.
pub fn import(
    bytes: &[u8],
    expected: Option<&BackboneSpec>,
    pretrained: Option<&[u8]>,
    device: &Device,
) -> Result<(Classifier, ModelInfo)> {
    let info = describe(bytes)?;
    let (_, tensors) = read_tensors(bytes, META_KEY, "model file")?;
    if let Some(spec) = expected
        && *spec != info.backbone
    {
        return Err(Error::Data(format!(
            "this model was trained on {} but this project uses {}; choose {} as the backbone to import it",
            info.backbone.name(),
            spec.name(),
            info.backbone.name()
        )));
    }
    check_classes(&info.classes)?;
    if let Some(t) = info.temperature.filter(|&t| !valid_temperature(t)) {
        return Err(Error::Data(format!(
            "this model file's temperature is {t}; calibration gives 0.05 to 20, so the file is damaged"
        )));
    }
    if let (Some(file_hash), Some(weights)) = (&info.backbone_hash, pretrained) {
        let ours = weights_hash(weights);
        if *file_hash != ours {
            return Err(Error::Data(format!(
                "this model was trained from other {} weights (fingerprint {file_hash}, these are {ours}); \
                 load the same backbone weights to import it",
                info.backbone.name()
            )));
        }
    }
    let mut rng = Rng::new(0);
    let backbone = match pretrained {
        Some(weights) => Backbone::load(&info.backbone, weights, device)?,
        None if info.backbone_hash.is_some() => {
            return Err(Error::Data(format!(
                "this model needs its pretrained {} weights to be loaded first",
                info.backbone.name()
            )));
        }
        None => Backbone::build(&info.backbone, &mut rng, device)?,
    }
    .with_every_layer(info.every_layer);
    info.config.validate(backbone.num_blocks()).map_err(|e| {
        Error::Data(format!(
            "this model file's training settings are invalid: {e}"
        ))
    })?;
    let head = Head::new(
        &info.config.head,
        backbone.feature_dim(),
        info.classes.len(),
        &mut rng,
        device,
    );
    let mut model = load_params(
        Classifier { backbone, head },
        &tensors,
        "",
        &|p| !exported(p),
        device,
    )?;
    model.head.temperature = info.temperature.unwrap_or(1.0);
    Ok((model, info))
}
