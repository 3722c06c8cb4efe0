//! THE ONLY MODULE THAT KNOWS JAVASCRIPT. It turns the plain-Rust core into a wasm-bindgen API:
//! an async factory, typed arrays in, plain objects out (serde-wasm-bindgen), crate errors as JS
//! `Error`s carrying the crate's message.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::backbone::{Backbone, BackboneSpec};
use crate::data::Dataset;
use crate::device::{self, ComputeDevice, DevicePreference};
use crate::error::Error;
use crate::model::Classifier;
use crate::rng::Rng;
use crate::train::{self, TrainConfig};

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
}

/// A classifier being built: examples, a config, and (once trained) a model.
#[wasm_bindgen]
pub struct Trainer {
    device: ComputeDevice,
    spec: BackboneSpec,
    config: TrainConfig,
    data: Dataset,
    run: Option<train::Trainer>,
    trained: Option<Classifier>,
}

#[wasm_bindgen]
impl Trainer {
    /// Opens the device and prepares an empty trainer.
    /// `options = { backbone: {kind: "features", dim}, device: "auto"|"webgpu"|"cpu", config: {...} }`.
    pub async fn create(options: JsValue) -> Result<Trainer, JsError> {
        let options: CreateOptions = if options.is_undefined() || options.is_null() {
            CreateOptions::default()
        } else {
            from_js(options, "options")?
        };
        let spec = options.backbone.ok_or_else(|| {
            Error::config("backbone", "missing; e.g. {kind: \"features\", dim: 128}")
        })?;
        let probe = Backbone::build(&spec, &mut Rng::new(0), &burn::tensor::Device::flex())?;
        options.config.validate(probe.num_blocks())?;
        let device = device::acquire(options.device, options.adapter_info.as_deref()).await?;
        Ok(Trainer {
            device,
            data: Dataset::new(probe.input_dim()),
            spec,
            config: options.config,
            run: None,
            trained: None,
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
        let probe = Backbone::build(&self.spec, &mut Rng::new(0), &burn::tensor::Device::flex())?;
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
        let backbone = Backbone::build(
            &self.spec,
            &mut Rng::new(self.config.seed ^ 0xBAC4),
            &device,
        )?;
        self.run = Some(train::Trainer::new(
            self.config.clone(),
            backbone,
            self.data.clone(),
            None,
            &device,
        )?);
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
            self.trained = Some(run.model().clone());
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
        let model = match (&self.run, &self.trained) {
            (Some(run), _) => run.model(),
            (None, Some(m)) => m,
            (None, None) => {
                return Err(Error::State("no model yet: train before predicting".into()).into());
            }
        };
        let predictions =
            train::trainer::predict(model, values, top_k, &self.device.device.clone().autodiff())
                .await?;
        to_js(&predictions)
    }

    /// Class names in label order.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Vec<String> {
        self.data.classes().to_vec()
    }
}
