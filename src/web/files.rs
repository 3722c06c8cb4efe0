//! The wasm API's files: the model file (export/import), run checkpoints (checkpoint, then
//! restoreCheckpoint) and the frozen part's feature cache (exportCache, importCache).

use wasm_bindgen::prelude::*;

use super::state::ProjectState;
use super::{from_js, to_js};
use crate::error::Error;
use crate::model::Predictor;
use crate::model::file::{self, ModelInfo, weights_hash};
use crate::model::param_file::Precision;
use crate::train;

impl ProjectState {
    /// The model as one file (safetensors with its description), for download; `options`:
    /// `{precision: "f32" | "f16"}` (default f32; f16 halves the file).
    pub async fn export_model(&self, options: JsValue) -> Result<Vec<u8>, JsError> {
        #[derive(serde::Deserialize, Default)]
        #[serde(default, deny_unknown_fields)]
        struct ExportOptions {
            precision: Precision,
        }
        let options: ExportOptions = if options.is_undefined() || options.is_null() {
            ExportOptions::default()
        } else {
            from_js(options, "export options {precision: \"f32\" | \"f16\"}")?
        };
        let model = self.model()?;
        // The settings of the model that is exported (an imported one's, or the run's), not the
        // project's current ones: they give the head's shape.
        let config = match (&self.trained, &self.run) {
            (Some(_), _) => self.trained_config.clone(),
            (None, Some(run)) => Some(run.config().clone()),
            (None, None) => None,
        }
        .unwrap_or_else(|| self.config.clone());
        let classes = if self.trained_classes.is_empty() {
            self.data.classes().to_vec()
        } else {
            self.trained_classes.clone()
        };
        let info = ModelInfo::new(self.spec.clone(), self.weights.as_deref(), classes, config);
        Ok(file::export_as(model, &info, options.precision).await?)
    }

    /// Loads a model file made by `exportModel`; afterwards `predict*` use it. Refused, with the
    /// reason, when it was made from another backbone or names other classes than the examples.
    pub fn import_model(&mut self, bytes: &[u8]) -> Result<JsValue, JsError> {
        let device = self.device.device.clone().autodiff();
        let (model, info) =
            file::import(bytes, Some(&self.spec), self.weights.as_deref(), &device)?;
        if !self.data.is_empty() && info.classes != self.data.classes() {
            return Err(Error::Data(format!(
                "this model knows the classes [{}] but this project has [{}]",
                info.classes.join(", "),
                self.data.classes().join(", ")
            ))
            .into());
        }
        self.trained = Some(Predictor::new(model, &device));
        self.trained_classes = info.classes.clone();
        self.trained_config = Some(info.config.clone());
        self.trained_preprocess = info.preprocess.clone();
        to_js(&info)
    }

    /// A checkpoint of the current run (between epochs), to restore after a reload or a crash.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, JsError> {
        let run = self
            .run
            .as_ref()
            .ok_or_else(|| Error::State("no training run to checkpoint".into()))?;
        Ok(run.checkpoint().await?)
    }

    /// Restores a run from `checkpoint()` bytes, on the examples this project holds, with the
    /// project's augmentation; `step()`/`trainEpoch()` then continue it.
    pub fn restore_checkpoint(&mut self, checkpoint: &[u8]) -> Result<(), JsError> {
        self.end_sweep();
        let config = train::checkpoint::read_config(checkpoint)?;
        let device = train::training_device(&self.device.device, &config);
        let backbone = self.backbone(&device)?;
        let run = train::TrainingRun::from_checkpoint(
            checkpoint,
            backbone,
            self.data.clone(),
            self.augmenter(),
            &device,
        )?;
        self.estimate = Some(run.memory_estimate());
        self.run = Some(run);
        self.run_augment = self.augment.clone();
        self.restart_augmentation();
        self.trained = None;
        // A checkpoint taken after the last epoch holds a finished model: usable at once.
        if let Some(run) = self.run.as_ref().filter(|r| r.is_finished()) {
            self.trained = Some(Predictor::new(run.model().clone(), &device));
            self.trained_classes = run.classes().to_vec();
            self.trained_config = Some(run.config().clone());
            self.trained_preprocess = self.preprocess.clone();
        }
        Ok(())
    }

    /// What a feature cache is tied to besides the examples: the backbone, its weights and how
    /// images are prepared for it (a page's saved cache from before cut-outs were shown whole
    /// holds features of their crops).
    fn cache_identity(&self) -> String {
        let weights = self
            .weights
            .as_deref()
            .map_or_else(|| format!("seed {}", self.config.seed), weights_hash);
        let preprocess = self
            .preprocess
            .as_ref()
            .map(|p| serde_json::to_string(p).unwrap_or_default())
            .unwrap_or_default();
        format!(
            "{} {weights} {preprocess}",
            serde_json::to_string(&self.spec).unwrap_or_default()
        )
    }

    /// The current run's cache of its frozen part's activations as a file (`null` while it is
    /// incomplete), for `importCache` in a later run on the same examples.
    pub async fn export_cache(&self) -> Result<Option<Vec<u8>>, JsError> {
        let run = self
            .run
            .as_ref()
            .ok_or_else(|| Error::State("no training run: call start() first".into()))?;
        Ok(run.export_cache(&self.cache_identity()).await?)
    }

    /// Gives the current run (just started) a cache file from `exportCache`: refused, with the
    /// reason and nothing changed, when it was computed from other examples, another backbone
    /// or weights, or another frozen part.
    pub fn import_cache(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let identity = self.cache_identity();
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| Error::State("no training run: call start() first".into()))?;
        run.import_cache(bytes, &identity)?;
        Ok(())
    }
}
