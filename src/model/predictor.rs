//! Predictions of a trained classifier: class probabilities for flat input rows.

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use super::Classifier;
use crate::backbone::CpuPlan;
use crate::error::{Error, Result};

/// One prediction: classes by decreasing probability (top k).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub classes: Vec<usize>,
    pub probabilities: Vec<f32>,
}

fn read_error(e: impl core::fmt::Debug) -> Error {
    Error::device("reading predictions back from the device failed", e)
}

/// A classifier that no longer trains, ready to predict: on the CPU device it keeps the
/// host-memory plan of its whole backbone (`backbone::cpu_convnet`) instead of copying and
/// folding the weights again on every call — for one camera frame that copy costs about as
/// much as the forward pass.
pub struct Predictor {
    model: Classifier,
    plan: Option<CpuPlan>,
}

impl Predictor {
    pub fn new(model: Classifier, device: &Device) -> Self {
        let plan = model
            .backbone
            .cpu_plan(model.backbone.num_blocks(), &device.clone().inner());
        Self { model, plan }
    }

    pub fn model(&self) -> &Classifier {
        &self.model
    }

    /// Class probabilities (top `top_k`) for flat input rows.
    pub async fn predict(
        &self,
        rows: &[f32],
        top_k: usize,
        device: &Device,
    ) -> Result<Vec<Prediction>> {
        let backbone = &self.model.backbone;
        let dim = backbone.input_dim();
        if rows.is_empty() || !rows.len().is_multiple_of(dim) {
            return Err(Error::Data(format!(
                "prediction input has {} values; expected a multiple of {dim} (one example = {dim} values)",
                rows.len()
            )));
        }
        let n = rows.len() / dim;
        let plain = device.clone().inner();
        let blocks = backbone.num_blocks();
        let features = match &self.plan {
            Some(plan) => plan.forward(rows, n, &plain),
            None => backbone.infer(rows.to_vec(), n, &plain),
        };
        let logits = self.model.head.calibrated(
            self.model
                .valid()
                .forward_from(features, blocks, None, false),
        );
        let k = logits.dims()[1];
        let probs = softmax(logits, 1)
            .into_data_async()
            .await
            .map_err(read_error)?
            .try_into_vec_as::<f32>()
            .map_err(read_error)?;
        Ok(probs
            .chunks(k)
            .map(|row| {
                let mut order: Vec<usize> = (0..k).collect();
                order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
                order.truncate(top_k.clamp(1, k));
                Prediction {
                    probabilities: order.iter().map(|&c| row[c]).collect(),
                    classes: order,
                }
            })
            .collect())
    }
}

/// Class probabilities (top `top_k`) of a classifier for flat input rows, once (a
/// [`Predictor`] keeps its preparation between calls).
pub async fn predict(
    model: &Classifier,
    rows: &[f32],
    top_k: usize,
    device: &Device,
) -> Result<Vec<Prediction>> {
    Predictor::new(model.clone(), device)
        .predict(rows, top_k, device)
        .await
}
