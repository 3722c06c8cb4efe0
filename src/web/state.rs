//! The state of one project behind the wasm API: its examples, settings, pretrained weights,
//! current run and trained model. `Project` (mod.rs) hands it out one call at a time.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::sweeps::SweepState;
use super::{from_js, to_js};

use crate::backbone::{Backbone, BackboneSpec};
use crate::config::TrainConfig;
use crate::config::validate::MAX_TOP_K;
use crate::data::Tokenizer;
use crate::data::image::{Augment, Preprocess};
use crate::data::text_augment::{TextAugment, TextAugmenter};
use crate::data::{AugmentedElsewhere, Augmenter, Dataset};
use crate::device::ComputeDevice;
use crate::error::Error;
use crate::model::Classifier;
use crate::model::{Prediction, Predictor, predict};
use crate::rng::Rng;
use crate::train;

/// Mixed into the config's seed for the images' augmentation draws.
pub(super) const AUGMENT_SEED: u64 = 0xA06_3E47;

/// A classifier being built: examples, a config, and (once trained or imported) a model.
pub(super) struct ProjectState {
    pub(super) device: ComputeDevice,
    pub(super) spec: BackboneSpec,
    /// Pretrained weights (safetensors), reloaded for every run so each starts from them.
    pub(super) weights: Option<Vec<u8>>,
    pub(super) preprocess: Option<Preprocess>,
    pub(super) config: TrainConfig,
    pub(super) augment: Augment,
    /// The image augmentation of the current run (the project's, or a sweep entry's).
    pub(super) run_augment: Augment,
    /// The examples; an image project keeps only their labels (see `images.rs`).
    pub(super) data: Dataset,
    /// Draws the augmentations of the images supplied for training batches (seeded per run).
    pub(super) augment_rng: Rng,
    pub(super) run: Option<train::TrainingRun>,
    /// The estimated peak memory of `run`, made when it started.
    pub(super) estimate: Option<train::MemoryEstimate>,
    /// The finished (or imported) model, prepared for predictions.
    pub(super) trained: Option<Predictor>,
    /// Class names of `trained` (an imported model may name classes before any example exists).
    pub(super) trained_classes: Vec<String>,
    /// The settings `trained` was trained with (its head's shape is in them): what its file says.
    pub(super) trained_config: Option<TrainConfig>,
    /// How `trained` wants its images prepared: the project's, or what an imported model's file
    /// says (one made before cut-outs were shown whole keeps cropping them).
    pub(super) trained_preprocess: Option<Preprocess>,
    /// The tokenizer of a text backbone.
    pub(super) tokenizer: Option<Tokenizer>,
    /// A text project's texts by example index, for the drill-downs that show them (the data set
    /// holds only their tokens); examples added as rows of numbers have none ("").
    pub(super) texts: Vec<String>,
    pub(super) text_augment: Option<TextAugment>,
    pub(super) sweep: Option<SweepState>,
}

/// The project's backbone on `device`: its pretrained weights, or (a backbone without any) built
/// from the settings' seed.
pub(super) fn load_backbone(
    spec: &BackboneSpec,
    weights: Option<&[u8]>,
    seed: u64,
    device: &burn::tensor::Device,
) -> Result<Backbone, Error> {
    match weights {
        Some(bytes) => Backbone::load(spec, bytes, device),
        None => Backbone::build(spec, &mut Rng::new(seed ^ 0xBAC4), device),
    }
}

impl ProjectState {
    pub(super) fn backbone(&self, device: &burn::tensor::Device) -> Result<Backbone, Error> {
        load_backbone(
            &self.spec,
            self.weights.as_deref(),
            self.config.seed,
            device,
        )
    }

    pub(super) fn model(&self) -> Result<&Classifier, Error> {
        match (&self.run, &self.trained) {
            (_, Some(p)) => Ok(p.model()),
            (Some(run), None) => Ok(run.kept_model()),
            (None, None) => Err(Error::State(
                "no model yet: train (or import a model) before predicting".into(),
            )),
        }
    }

    /// Predictions for flat rows: from the prepared finished model, else (mid-run) from the
    /// run's current model, prepared for this call.
    pub(super) async fn predictions(
        &self,
        rows: &[f32],
        top_k: i32,
    ) -> Result<Vec<Prediction>, Error> {
        let top_k = usize::try_from(top_k)
            .ok()
            .filter(|k| (1..=MAX_TOP_K).contains(k))
            .ok_or_else(|| {
                Error::config(
                    "topK",
                    format!("must be between 1 and {MAX_TOP_K}, got {top_k}"),
                )
            })?;
        self.check_token_ids(rows)?;
        let device = self.device.device.clone().autodiff();
        match &self.trained {
            Some(p) => p.predict(rows, top_k, &device).await,
            None => predict(self.model()?, rows, top_k, &device).await,
        }
    }

    /// Rows for a text backbone hold token ids and a mask: refuses ids outside the vocabulary
    /// (they would index past the embedding table) and masks other than 0/1.
    pub(super) fn check_token_ids(&self, rows: &[f32]) -> Result<(), Error> {
        let (Some(tokenizer), BackboneSpec::Bert { max_len, .. }) = (&self.tokenizer, &self.spec)
        else {
            return Ok(());
        };
        let vocab = tokenizer.vocab_size() as f32;
        for (r, row) in rows.chunks(2 * max_len).enumerate() {
            let (ids, mask) = row.split_at(row.len().min(*max_len));
            if let Some(id) = ids
                .iter()
                .find(|&&id| !(id >= 0.0 && id < vocab && id.fract() == 0.0))
            {
                return Err(Error::Data(format!(
                    "row {r} has token id {id}, but the vocabulary has ids 0 to {}",
                    vocab - 1.0
                )));
            }
            if mask.iter().any(|&m| m != 0.0 && m != 1.0) {
                return Err(Error::Data(format!(
                    "row {r}'s attention mask holds values other than 0 and 1"
                )));
            }
        }
        Ok(())
    }

    /// Starts the augmentation draws afresh for a new or restored run (a restored run's draws
    /// therefore differ from those the interrupted run would have made).
    pub(super) fn restart_augmentation(&mut self) {
        self.augment_rng = Rng::new(self.config.seed ^ AUGMENT_SEED);
    }

    /// The project's training augmentation for a run (images or texts), if any is on.
    pub(super) fn augmenter(&self) -> Option<Box<dyn Augmenter>> {
        self.augmenter_for(&self.augment)
    }

    /// A run's training augmentation with the image augmentation `augment`, if any is on.
    pub(super) fn augmenter_for(&self, augment: &Augment) -> Option<Box<dyn Augmenter>> {
        if augment.any() && self.preprocess.is_some() {
            // The images are augmented as they are supplied, batch by batch (`supply_images`).
            return Some(Box::new(AugmentedElsewhere {
                settings: augment.settings(),
            }));
        }
        match (&self.text_augment, &self.spec) {
            (Some(augment), BackboneSpec::Bert { max_len, .. }) => Some(Box::new(TextAugmenter {
                rows: self.data.clone(),
                max_len: *max_len,
                augment: augment.clone(),
            })),
            _ => None,
        }
    }
}

impl ProjectState {
    /// The device in use: `{kind, description, reason}`.
    pub fn device(&self) -> Result<JsValue, JsError> {
        to_js(&self.device.info)
    }

    /// Replaces the training settings for the next run (validated now).
    pub fn set_config(&mut self, config: JsValue) -> Result<(), JsError> {
        let config: TrainConfig = from_js(config, "config")?;
        let probe = self.backbone(&burn::tensor::Device::flex())?;
        config.validate(probe.num_blocks())?;
        self.config = config;
        Ok(())
    }

    /// Adds examples: `values` holds one row per label; `labels[i]` indexes `classes`.
    /// All or nothing: on error no example is added. Returns the number of examples held.
    pub fn add_examples(
        &mut self,
        values: &[f32],
        labels: &[u32],
        classes: Vec<String>,
    ) -> Result<usize, JsError> {
        self.check_token_ids(values)?;
        let labels: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
        self.data.add_batch(values, &labels, &classes)?;
        Ok(self.data.len())
    }

    /// Declares a class before it has examples (so an empty class is reported, not forgotten).
    pub fn add_class(&mut self, name: String) -> Result<(), JsError> {
        self.data.class_index(&name)?;
        Ok(())
    }

    /// Examples per class: `[{name, count}]`.
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
        // A sweep's unfinished run gives way (its leaderboard stays).
        self.end_sweep();
        let device = train::training_device(&self.device.device, &self.config);
        let backbone = self.backbone(&device)?;
        let mut run = train::TrainingRun::new(
            self.config.clone(),
            backbone,
            self.data.clone(),
            None,
            &device,
        )?;
        run.set_augmenter(self.augmenter());
        // Refused up front, with what to change, rather than trapping when memory runs out; the
        // examples and any trained model stay as they were.
        let estimate = run.memory_estimate();
        if let Some(budget) = train::TAB_BUDGET_BYTES {
            estimate.check_fits(budget)?;
        }
        self.estimate = Some(estimate);
        self.run = Some(run);
        self.run_augment = self.augment.clone();
        self.restart_augmentation();
        self.trained = None;
        Ok(())
    }

    /// One training batch; returns the epoch report when the batch ended an epoch, else `null`.
    pub async fn step(&mut self) -> Result<JsValue, JsError> {
        // A sweep's run ends in a leaderboard row, not in the project's model.
        let sweeps = self.run_is_sweeps();
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| Error::State("no training run: call start() first".into()))?;
        let report = run.step().await?;
        if run.is_finished() && !sweeps {
            self.trained = Some(Predictor::new(run.model().clone(), &self.device.device));
            self.trained_classes = run.classes().to_vec();
            self.trained_config = Some(run.config().clone());
            self.trained_preprocess = self.preprocess.clone();
        }
        match report {
            Some(r) => to_js(&r),
            None => Ok(JsValue::NULL),
        }
    }

    /// Runs batches until the current epoch ends; returns its report.
    pub async fn train_epoch(&mut self) -> Result<JsValue, JsError> {
        loop {
            let r = self.step().await?;
            if !r.is_null() {
                return Ok(r);
            }
        }
    }

    /// Whether the current run has ended (last epoch, early stop or divergence).
    pub fn finished(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.is_finished())
    }

    /// The epoch reports of the current run so far (`[]` before any).
    pub fn history(&self) -> Result<JsValue, JsError> {
        to_js(&self.run.as_ref().map(|r| r.history()).unwrap_or_default())
    }

    /// Whether a run is under way that `step()` can continue (after a stop or a `resume`).
    pub fn caching(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Caching {
            done: usize,
            total: usize,
        }
        let progress = self.run.as_ref().and_then(|r| r.caching_progress());
        to_js(&progress.map(|(done, total)| Caching { done, total }))
    }

    /// The current run's estimated peak memory, by what takes it (`null` before a run).
    pub fn memory_estimate(&self) -> Result<JsValue, JsError> {
        to_js(&self.estimate)
    }

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
    pub async fn predict(&self, values: &[f32], top_k: i32) -> Result<JsValue, JsError> {
        to_js(&self.predictions(values, top_k).await?)
    }

    /// Top-k classes with probabilities for one RGBA image (image backbones).
    pub async fn predict_image(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
        top_k: i32,
    ) -> Result<JsValue, JsError> {
        let row = self.image_row(rgba, width, height)?;
        to_js(&self.predictions(&row, top_k).await?[0])
    }

    /// Class names in label order (of the examples, or of an imported model when there are none).
    pub fn classes(&self) -> Vec<String> {
        if self.data.num_classes() == 0 {
            self.trained_classes.clone()
        } else {
            self.data.classes().to_vec()
        }
    }
}
