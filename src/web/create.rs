//! Creating a project behind the wasm API: its options read and checked (backbone, weights,
//! vocabulary, settings), the device opened, and an empty set of examples made.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::from_js;
use super::state::{AUGMENT_SEED, ProjectState};
use crate::backbone::{Backbone, BackboneSpec};
use crate::config::TrainConfig;
use crate::data::image::Augment;
use crate::data::text_augment::TextAugment;
use crate::data::{Dataset, Tokenizer};
use crate::device::{self, DevicePreference};
use crate::error::Error;
use crate::rng::Rng;

/// How many more rows an embedding table may have than its vocab.txt has tokens.
const MAX_EMBEDDING_PADDING: usize = 128;

/// What `Project.create` takes.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CreateOptions {
    backbone: Option<BackboneSpec>,
    device: DevicePreference,
    /// What the page knows of the WebGPU adapter (`GPUAdapter.info`), e.g. "google swiftshader".
    adapter_info: Option<String>,
    config: TrainConfig,
    /// Image augmentation for training (image backbones only).
    augment: Augment,
    /// The text encoder's vocab.txt (BERT backbones only).
    vocab: Option<String>,
    /// Token augmentation for training (BERT backbones only).
    text_augment: Option<TextAugment>,
}

impl ProjectState {
    /// Opens the device and prepares an empty trainer.
    /// `options = { backbone: {kind: "features", dim}, device: "auto"|"webgpu"|"cpu", config: {...} }`.
    /// `weights`: the backbone's pretrained safetensors (required for image backbones).
    pub async fn create(
        options: JsValue,
        weights: Option<Vec<u8>>,
    ) -> Result<ProjectState, JsError> {
        let options: CreateOptions = if options.is_undefined() || options.is_null() {
            CreateOptions::default()
        } else {
            from_js(options, "options")?
        };
        let spec = options.backbone.ok_or_else(|| {
            Error::config("backbone", "missing; e.g. {kind: \"features\", dim: 128}")
        })?;
        let preprocess = spec.preprocess();
        if preprocess.is_some() && weights.is_none() {
            return Err(Error::Weights(format!(
                "{} needs its pretrained weights (a .safetensors file); none were given",
                spec.name()
            ))
            .into());
        }
        let tokenizer = match (&spec, &options.vocab) {
            (BackboneSpec::Bert { .. }, Some(vocab)) => Some(Tokenizer::from_vocab(vocab)?),
            (BackboneSpec::Bert { .. }, None) => {
                return Err(Error::Weights(
                    "a text backbone needs its vocab.txt (options.vocab)".into(),
                )
                .into());
            }
            _ => None,
        };
        if matches!(spec, BackboneSpec::Bert { .. }) && weights.is_none() {
            return Err(Error::Weights(
                "a text backbone needs its pretrained weights (model.safetensors)".into(),
            )
            .into());
        }
        let device = device::acquire(options.device, options.adapter_info.as_deref()).await?;
        // Checks the weights and the config now, so a mistake is reported before any work.
        let probe = match &weights {
            Some(bytes) => Backbone::load(&spec, bytes, &burn::tensor::Device::flex())?,
            None => Backbone::build(&spec, &mut Rng::new(0), &burn::tensor::Device::flex())?,
        };
        options.config.validate(probe.num_blocks())?;
        options.augment.validate()?;
        if let (Backbone::Bert(bert), Some(tokenizer)) = (&probe, &tokenizer) {
            // Exporters may pad the embedding table a little past the vocabulary (to a multiple
            // of 8 or 64); a larger gap means the vocab.txt belongs to other weights.
            let (vocab, embedded) = (tokenizer.vocab_size(), bert.vocab_size());
            if vocab > embedded || embedded - vocab > MAX_EMBEDDING_PADDING {
                return Err(Error::Weights(format!(
                    "the vocab.txt has {vocab} tokens but these weights embed {embedded}: use the vocab.txt that came with the weights"
                ))
                .into());
            }
        }
        // Images stay outside wasm memory (see images.rs); texts and feature vectors are small
        // enough to hold.
        let data = match preprocess {
            Some(_) => Dataset::rows_elsewhere(probe.input_dim()),
            None => Dataset::new(probe.input_dim()),
        };
        Ok(ProjectState {
            device,
            data,
            augment_rng: Rng::new(options.config.seed ^ AUGMENT_SEED),
            spec,
            weights,
            preprocess,
            config: options.config,
            run_augment: options.augment.clone(),
            augment: options.augment,
            run: None,
            estimate: None,
            trained: None,
            trained_classes: Vec::new(),
            trained_config: None,
            trained_preprocess: None,
            tokenizer,
            texts: Vec::new(),
            text_augment: options.text_augment,
            sweep: None,
        })
    }
}
