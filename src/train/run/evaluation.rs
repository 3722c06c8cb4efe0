//! Validation passes: one forward pass per chunk, one read-back per pass.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, Transaction};

use super::frozen_prefix::EVAL_CHUNK;
use super::{TrainingRun, index_tensor, read_error};
use crate::error::Result;
use crate::train::calibration::{calibrate, expected_calibration_error};
use crate::train::loss::cross_entropy_per_example;
use crate::train::metrics::{ClassificationReport, ConfusionMatrix, argmax_rows, top_k_accuracy};
use crate::train::report::{Evaluation, ExampleLoss};

impl TrainingRun {
    /// Evaluates the model that is kept (`kept_model`: the best epoch's where early stopping
    /// watches, else the last completed epoch's — never a half-trained epoch's) on the
    /// validation set; the evaluation says which epoch that is.
    pub async fn evaluate(&mut self) -> Result<Evaluation> {
        let kept = self.kept_model().clone();
        let mut evaluation = self.validation_pass_of(&kept, None).await?.evaluation;
        evaluation.epoch = self.kept_epoch();
        if self.is_finished() {
            evaluation.calibration = self.calibration.clone();
        }
        Ok(evaluation)
    }

    /// What temperature scaling did when the run ended (`None` before, or when off).
    pub fn calibration(&self) -> Option<&crate::train::calibration::Calibration> {
        self.calibration.as_ref()
    }

    /// Temperature scaling of the kept model, fitted on the validation split when the run ends
    /// (`TrainConfig::calibrate`); the kept model divides its logits by the temperature from
    /// then on (predictions, evaluation, the model file).
    pub(super) async fn calibrate(&mut self) -> Result<()> {
        if !self.config.calibrate || self.calibration.is_some() {
            return Ok(());
        }
        let model = self.model.clone();
        let pass = self.validation_pass_of(&model, None).await?;
        let k = self.data.num_classes();
        let calibration = calibrate(&pass.logits, k, &pass.actual);
        self.model.head.temperature = calibration.temperature;
        self.calibration = Some(calibration);
        Ok(())
    }

    /// Forward pass over the validation set; reads back its results (and the epoch's training
    /// sums when given) in a single transaction.
    pub(super) async fn validation_pass(
        &mut self,
        train_sums: Option<(Tensor<1>, Tensor<1, Int>)>,
    ) -> Result<ValidationPass> {
        let model = self.model.clone();
        let mut pass = self.validation_pass_of(&model, train_sums).await?;
        pass.evaluation.epoch = Some(self.epoch);
        Ok(pass)
    }

    /// A validation pass of `model` (the run's, or its kept one: their frozen prefixes agree).
    async fn validation_pass_of(
        &mut self,
        model: &crate::model::Classifier,
        train_sums: Option<(Tensor<1>, Tensor<1, Int>)>,
    ) -> Result<ValidationPass> {
        let acts = self.cached_activations()?;
        let frozen = self.model.frozen_prefix(self.trainable);
        let model = model.valid();
        let k = self.data.num_classes();
        let val = self.split.validation.clone();
        let mut logits_of_chunks = Vec::new();
        let mut losses = Vec::new();
        for chunk in val.chunks(EVAL_CHUNK) {
            let idx = index_tensor(chunk, &self.device);
            let x = self.trimmed_to_batch(acts.select(idx.clone()).inner(), chunk);
            let y = self.labels.clone().select(0, idx).inner();
            let logits = model
                .head
                .calibrated(model.forward_from(x, frozen, None, false));
            losses.push(cross_entropy_per_example(logits.clone(), y, 0.0));
            logits_of_chunks.push(logits);
        }
        let logits = Tensor::cat(logits_of_chunks, 0);
        let mut tx = Transaction::default()
            .register(softmax(logits.clone(), 1))
            .register(Tensor::cat(losses, 0))
            .register(logits);
        if let Some((loss_sum, correct)) = train_sums {
            tx = tx.register(loss_sum.inner()).register(correct.inner());
        }
        let data = tx.execute_async().await.map_err(read_error)?;
        let floats = |i: usize| -> Result<Vec<f32>> {
            data[i].clone().try_into_vec_as::<f32>().map_err(read_error)
        };
        let probs = floats(0)?;
        let losses = floats(1)?;
        let logits = floats(2)?;
        let train = if data.len() == 5 {
            let loss_sum = floats(3)?[0] as f64;
            let correct = data[4]
                .clone()
                .try_into_vec_as::<i64>()
                .map_err(read_error)?[0] as f64;
            Some((loss_sum, correct))
        } else {
            None
        };
        let actual: Vec<usize> = val.iter().map(|&i| self.data.labels()[i]).collect();
        let predicted = argmax_rows(&probs, k);
        let report =
            ClassificationReport::from_confusion(ConfusionMatrix::new(k, &actual, &predicted));
        let mut hardest: Vec<ExampleLoss> = val
            .iter()
            .enumerate()
            .map(|(row, &index)| ExampleLoss {
                index,
                label: actual[row],
                predicted: predicted[row],
                loss: losses[row] as f64,
            })
            .collect();
        hardest.sort_by(|a, b| b.loss.total_cmp(&a.loss));
        let loss = losses.iter().map(|&l| l as f64).sum::<f64>() / losses.len().max(1) as f64;
        let top_k = self.config.top_k.min(k);
        let probs_f64: Vec<f64> = probs.iter().map(|&p| p as f64).collect();
        Ok(ValidationPass {
            train,
            logits,
            actual: actual.clone(),
            evaluation: Evaluation {
                expected_calibration_error: expected_calibration_error(&probs_f64, k, &actual),
                calibration: None,
                epoch: None,
                loss,
                top_k,
                top_k_accuracy: top_k_accuracy(&probs, k, &actual, top_k),
                report,
                hardest,
            },
        })
    }
}

pub(super) struct ValidationPass {
    pub(super) train: Option<(f64, f64)>,
    /// The validation examples' logits (as the model's probabilities see them) and classes.
    pub(super) logits: Vec<f32>,
    pub(super) actual: Vec<usize>,
    pub(super) evaluation: Evaluation,
}
