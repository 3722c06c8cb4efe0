//! The wasm API's files: the model file (export/import) and run checkpoints (checkpoint/resume).

use wasm_bindgen::prelude::*;

use super::{Trainer, to_js};
use crate::error::Error;
use crate::model_file::{self, ModelInfo};
use crate::train;
use crate::train::trainer::Predictor;

#[wasm_bindgen]
impl Trainer {
    /// The model as one file (safetensors with its description), for download.
    #[wasm_bindgen(js_name = exportModel)]
    pub async fn export_model(&self) -> Result<Vec<u8>, JsError> {
        let model = self.model()?;
        let classes = if self.trained_classes.is_empty() {
            self.data.classes().to_vec()
        } else {
            self.trained_classes.clone()
        };
        let info = ModelInfo {
            format: model_file::FORMAT,
            kindling_version: env!("CARGO_PKG_VERSION").to_string(),
            backbone: self.spec.clone(),
            backbone_hash: self.weights.as_deref().map(model_file::weights_hash),
            classes,
            preprocess: self.preprocess.clone(),
            config: self.config.clone(),
        };
        Ok(model_file::export(model, &info).await?)
    }

    /// Loads a model file made by `exportModel`; afterwards `predict*` use it. Refused, with the
    /// reason, when it was made from another backbone or names other classes than the examples.
    #[wasm_bindgen(js_name = importModel)]
    pub fn import_model(&mut self, bytes: &[u8]) -> Result<JsValue, JsError> {
        let device = self.device.device.clone().autodiff();
        let (model, info) =
            model_file::import(bytes, Some(&self.spec), self.weights.as_deref(), &device)?;
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
        to_js(&info)
    }

    /// A checkpoint of the current run (between epochs), to resume after a reload.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, JsError> {
        let run = self
            .run
            .as_ref()
            .ok_or_else(|| Error::State("no training run to checkpoint".into()))?;
        Ok(run.checkpoint().await?)
    }

    /// Continues a run from `checkpoint()` bytes, on the examples this trainer holds.
    pub fn resume(&mut self, checkpoint: &[u8]) -> Result<(), JsError> {
        let device = self.device.device.clone().autodiff();
        let backbone = self.backbone(&device)?;
        self.run = Some(train::Trainer::resume(
            checkpoint,
            backbone,
            self.data.clone(),
            &device,
        )?);
        self.trained = None;
        // A checkpoint taken after the last epoch holds a finished model: usable at once.
        if let Some(run) = self.run.as_ref().filter(|r| r.is_finished()) {
            self.trained = Some(Predictor::new(run.model().clone(), &device));
            self.trained_classes = run.classes().to_vec();
        }
        Ok(())
    }
}
