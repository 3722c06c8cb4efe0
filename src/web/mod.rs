//! THE ONLY MODULE THAT KNOWS JAVASCRIPT. It turns the plain-Rust core into a wasm-bindgen API:
//! an async factory, typed arrays in, plain objects out (serde-wasm-bindgen), crate errors as JS
//! `Error`s carrying the crate's message.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::backbone::{Backbone, BackboneSpec};
use crate::data::Dataset;
use crate::data::image::{Augment, ImageAugmenter, Preprocess, Rgba};
use crate::device::{self, ComputeDevice, DevicePreference};
use crate::error::Error;
use crate::model::Classifier;
use crate::rng::Rng;
use crate::text::Tokenizer;
use crate::train::trainer::Predictor;
use crate::train::{self, Prediction, TrainConfig};

mod bench;
mod files;
mod text;

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("internal: could not convert a result for JS: {e}")))
}

fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| JsError::new(&format!("setting `{what}`: {e}")))
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// What `Trainer.create` takes.
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
    text_augment: Option<crate::data::text::TextAugment>,
}

/// A classifier being built: examples, a config, and (once trained or imported) a model.
#[wasm_bindgen]
pub struct Trainer {
    device: ComputeDevice,
    spec: BackboneSpec,
    /// Pretrained weights (safetensors), reloaded for every run so each starts from them.
    weights: Option<Vec<u8>>,
    preprocess: Option<Preprocess>,
    config: TrainConfig,
    augment: Augment,
    data: Dataset,
    /// The images, shrunk, kept only while augmentation needs them (shared with the run).
    images: std::sync::Arc<Vec<Rgba>>,
    run: Option<train::Trainer>,
    /// The finished (or imported) model, prepared for predictions.
    trained: Option<Predictor>,
    /// Class names of `trained` (an imported model may name classes before any example exists).
    trained_classes: Vec<String>,
    /// The tokenizer of a text backbone.
    tokenizer: Option<Tokenizer>,
    text_augment: Option<crate::data::text::TextAugment>,
}

impl Trainer {
    fn backbone(&self, device: &burn::tensor::Device) -> Result<Backbone, Error> {
        match &self.weights {
            Some(bytes) => Backbone::load(&self.spec, bytes, device),
            None => Backbone::build(&self.spec, &mut Rng::new(self.config.seed ^ 0xBAC4), device),
        }
    }

    fn model(&self) -> Result<&Classifier, Error> {
        match (&self.run, &self.trained) {
            (_, Some(p)) => Ok(p.model()),
            (Some(run), None) => Ok(run.model()),
            (None, None) => Err(Error::State(
                "no model yet: train (or import a model) before predicting".into(),
            )),
        }
    }

    /// Predictions for flat rows: from the prepared finished model, else (mid-run) from the
    /// run's current model, prepared for this call.
    async fn predictions(&self, rows: &[f32], top_k: usize) -> Result<Vec<Prediction>, Error> {
        let device = self.device.device.clone().autodiff();
        match &self.trained {
            Some(p) => p.predict(rows, top_k, &device).await,
            None => train::trainer::predict(self.model()?, rows, top_k, &device).await,
        }
    }

    fn image_rows(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
    ) -> Result<(Rgba, Vec<f32>), Error> {
        let pre = self.preprocess.as_ref().ok_or_else(|| {
            Error::State(format!(
                "{} takes feature vectors, not images; choose an image backbone",
                self.spec.name()
            ))
        })?;
        let img = Rgba::new(width, height, rgba.to_vec())?;
        let row = pre.eval(&img);
        Ok((img, row))
    }
}

#[wasm_bindgen]
impl Trainer {
    /// Opens the device and prepares an empty trainer.
    /// `options = { backbone: {kind: "features", dim}, device: "auto"|"webgpu"|"cpu", config: {...} }`.
    /// `weights`: the backbone's pretrained safetensors (required for image backbones).
    pub async fn create(options: JsValue, weights: Option<Vec<u8>>) -> Result<Trainer, JsError> {
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
        if let (Backbone::Bert(bert), Some(tokenizer)) = (&probe, &tokenizer) {
            if tokenizer.vocab_size() > bert.vocab_size() {
                return Err(Error::Weights(format!(
                    "the vocab.txt has {} tokens but these weights embed only {}: use the vocab.txt that came with the weights",
                    tokenizer.vocab_size(),
                    bert.vocab_size()
                ))
                .into());
            }
        }
        Ok(Trainer {
            device,
            data: Dataset::new(probe.input_dim()),
            spec,
            weights,
            preprocess,
            config: options.config,
            augment: options.augment,
            images: Default::default(),
            run: None,
            trained: None,
            trained_classes: Vec::new(),
            tokenizer,
            text_augment: options.text_augment,
        })
    }

    /// The device in use: `{kind, description, reason}`.
    #[wasm_bindgen(getter)]
    pub fn device(&self) -> Result<JsValue, JsError> {
        to_js(&self.device.info)
    }

    /// Replaces the training settings for the next run (validated now).
    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&mut self, config: JsValue) -> Result<(), JsError> {
        let config: TrainConfig = from_js(config, "config")?;
        let probe = self.backbone(&burn::tensor::Device::flex())?;
        config.validate(probe.num_blocks())?;
        self.config = config;
        Ok(())
    }

    /// Adds examples: `values` holds one row per label; `labels[i]` indexes `classes`.
    /// All or nothing: on error no example is added. Returns the number of examples held.
    #[wasm_bindgen(js_name = addExamples)]
    pub fn add_examples(
        &mut self,
        values: &[f32],
        labels: &[u32],
        classes: Vec<String>,
    ) -> Result<usize, JsError> {
        let labels: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
        self.data.add_batch(values, &labels, &classes)?;
        Ok(self.data.len())
    }

    /// Adds one image (RGBA bytes, as `ImageData.data` gives) of class `class`; on error nothing
    /// is added. Returns the number of examples held.
    #[wasm_bindgen(js_name = addImage)]
    pub fn add_image(
        &mut self,
        rgba: &[u8],
        width: usize,
        height: usize,
        class: String,
    ) -> Result<usize, JsError> {
        let (img, row) = self.image_rows(rgba, width, height)?;
        self.data.add(&row, &class)?;
        if let (true, Some(pre)) = (self.augment.any(), &self.preprocess) {
            // Crops are drawn from a copy 1.5× the evaluation resize, not the full photo.
            std::sync::Arc::make_mut(&mut self.images).push(img.shrunk(pre.resize * 3 / 2));
        }
        Ok(self.data.len())
    }

    /// Declares a class before it has examples (so an empty class is reported, not forgotten).
    #[wasm_bindgen(js_name = addClass)]
    pub fn add_class(&mut self, name: String) -> Result<(), JsError> {
        self.data.class_index(&name)?;
        Ok(())
    }

    /// Examples per class: `[{name, count}]`.
    #[wasm_bindgen(js_name = classCounts)]
    pub fn class_counts(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Count<'a> {
            name: &'a str,
            count: usize,
        }
        let counts: Vec<Count> = self
            .data
            .classes()
            .iter()
            .zip(self.data.class_counts())
            .map(|(name, count)| Count { name, count })
            .collect();
        to_js(&counts)
    }

    /// Starts a new run on the current examples and config (a trained model stays usable until
    /// the new run produces one).
    pub fn start(&mut self) -> Result<(), JsError> {
        let device = self.device.device.clone().autodiff();
        let backbone = self.backbone(&device)?;
        let mut run = train::Trainer::new(
            self.config.clone(),
            backbone,
            self.data.clone(),
            None,
            &device,
        )?;
        if let (Some(augment), BackboneSpec::Bert { max_len, .. }) =
            (&self.text_augment, &self.spec)
        {
            run.set_augmenter(Some(Box::new(crate::data::text::TextAugmenter {
                rows: self.data.clone(),
                max_len: *max_len,
                augment: augment.clone(),
            })));
        }
        if let (true, Some(pre)) = (self.augment.any(), &self.preprocess) {
            run.set_augmenter(Some(Box::new(ImageAugmenter {
                images: self.images.clone(),
                preprocess: pre.clone(),
                augment: self.augment.clone(),
            })));
        }
        self.run = Some(run);
        self.trained = None;
        Ok(())
    }

    /// One training batch; returns the epoch report when the batch ended an epoch, else `null`.
    pub async fn step(&mut self) -> Result<JsValue, JsError> {
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| Error::State("no training run: call start() first".into()))?;
        let report = run.step().await?;
        if run.is_finished() {
            self.trained = Some(Predictor::new(run.model().clone(), &self.device.device));
            self.trained_classes = run.classes().to_vec();
        }
        match report {
            Some(r) => to_js(&r),
            None => Ok(JsValue::NULL),
        }
    }

    /// Runs batches until the current epoch ends; returns its report.
    #[wasm_bindgen(js_name = trainEpoch)]
    pub async fn train_epoch(&mut self) -> Result<JsValue, JsError> {
        loop {
            let r = self.step().await?;
            if !r.is_null() {
                return Ok(r);
            }
        }
    }

    /// Whether the current run has ended (last epoch, early stop or divergence).
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.is_finished())
    }

    /// The epoch reports of the current run so far (`[]` before any).
    #[wasm_bindgen(getter)]
    pub fn history(&self) -> Result<JsValue, JsError> {
        to_js(&self.run.as_ref().map(|r| r.history()).unwrap_or_default())
    }

    /// Whether a run is under way that `step()` can continue (after a stop or a `resume`).
    #[wasm_bindgen(getter, js_name = canContinue)]
    pub fn can_continue(&self) -> bool {
        self.run.as_ref().is_some_and(|r| !r.is_finished())
    }

    /// Full evaluation of the current run's model on its validation set.
    pub async fn evaluate(&mut self) -> Result<JsValue, JsError> {
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| Error::State("nothing to evaluate yet: train first".into()))?;
        to_js(&run.evaluate().await?)
    }

    /// Top-k classes with probabilities for each row of `values`.
    pub async fn predict(&self, values: &[f32], top_k: usize) -> Result<JsValue, JsError> {
        to_js(&self.predictions(values, top_k).await?)
    }

    /// Top-k classes with probabilities for one RGBA image (image backbones).
    #[wasm_bindgen(js_name = predictImage)]
    pub async fn predict_image(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
        top_k: usize,
    ) -> Result<JsValue, JsError> {
        let (_, row) = self.image_rows(rgba, width, height)?;
        to_js(&self.predictions(&row, top_k).await?[0])
    }

    /// Class names in label order (of the examples, or of an imported model when there are none).
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Vec<String> {
        if self.data.num_classes() == 0 {
            self.trained_classes.clone()
        } else {
            self.data.classes().to_vec()
        }
    }
}
