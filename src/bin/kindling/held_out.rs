//! `kindling train --test DATA` and `kindling eval`: labelled data the run never saw — not in
//! training, not in the validation split that early stopping and calibration choose on — scored
//! once with the kept model, an unbiased estimate of how it does on new examples.

use burn::tensor::Device;
use kindling::data::Dataset;
use kindling::model::{Classifier, Predictor};
use kindling::train::calibration::expected_calibration_error;
use kindling::train::metrics::{ClassificationReport, ConfusionMatrix};
use kindling::train::run::host_features;
use kindling::{Error, Result};
use serde::Serialize;

/// Examples per forward pass.
const CHUNK: usize = 64;

/// Labelled examples, their labels as indices into a model's classes.
pub struct HeldOut {
    pub data: Dataset,
    pub labels: Vec<usize>,
}

/// The held-out set's score, as `--metrics` writes it.
#[derive(Serialize)]
pub struct TestScore {
    pub examples: usize,
    pub report: ClassificationReport,
    /// How far the kept model's confidences are from its accuracy on these examples (15 bins,
    /// the model's temperature applied): the calibration error no fitting has seen.
    pub expected_calibration_error: f64,
}

impl TestScore {
    /// "accuracy …% on … examples, macro-F1 …", as the commands print it.
    pub fn summary(&self) -> String {
        format!(
            "accuracy {:.1}% on {} examples, macro-F1 {:.3}, calibration error {:.1}%",
            100.0 * self.report.accuracy,
            self.examples,
            self.report.macro_f1,
            100.0 * self.expected_calibration_error
        )
    }
}

/// Maps `data`'s class names onto `classes` (a model's), naming a class the model lacks.
pub fn held_out(data: Dataset, classes: &[String]) -> Result<HeldOut> {
    let labels = data
        .labels()
        .iter()
        .map(|&l| {
            let name = &data.classes()[l];
            classes.iter().position(|c| c == name).ok_or_else(|| {
                Error::Data(format!(
                    "the data has a class '{name}' that the model does not know (it knows {})",
                    classes.join(", ")
                ))
            })
        })
        .collect::<Result<_>>()?;
    Ok(HeldOut { data, labels })
}

impl HeldOut {
    /// Calls `f` with the rows of every example, a chunk at a time, and the chunk's size.
    fn for_each_chunk(&self, mut f: impl FnMut(Vec<f32>, usize) -> Result<()>) -> Result<()> {
        let all: Vec<usize> = (0..self.data.len()).collect();
        for chunk in all.chunks(CHUNK) {
            f(self.data.gather(chunk)?, chunk.len())?;
        }
        Ok(())
    }

    /// `model`'s top class for every example scored against the labels, and the calibration of
    /// its probabilities.
    pub fn score(&self, model: &Classifier, device: &Device) -> Result<TestScore> {
        // One predictor for every chunk: it prepares the backbone's host plan once.
        let predictor = Predictor::new(model.clone(), device);
        let k = model.head.num_classes();
        let mut predicted = Vec::with_capacity(self.data.len());
        let mut probabilities = vec![0.0f64; self.data.len().saturating_mul(k)];
        let mut rows_done = 0;
        self.for_each_chunk(|rows, _| {
            // Every class, most probable first: one row of `probabilities` per example.
            for prediction in pollster::block_on(predictor.predict(&rows, k, device))? {
                predicted.push(prediction.classes.first().copied().unwrap_or(0));
                let Some(row) = probabilities.get_mut(rows_done * k..(rows_done + 1) * k) else {
                    return Err(Error::State(
                        "internal: more predictions than held-out examples".into(),
                    ));
                };
                for (&class, &p) in prediction.classes.iter().zip(&prediction.probabilities) {
                    if let Some(slot) = row.get_mut(class) {
                        *slot = f64::from(p);
                    }
                }
                rows_done += 1;
            }
            Ok(())
        })?;
        Ok(TestScore {
            expected_calibration_error: expected_calibration_error(&probabilities, k, &self.labels),
            examples: self.data.len(),
            report: ClassificationReport::from_confusion(ConfusionMatrix::new(
                k,
                &self.labels,
                &predicted,
            )),
        })
    }

    /// The backbone's features of every example (row-major) and their size.
    pub fn features(&self, model: &Classifier, device: &Device) -> Result<(Vec<f32>, usize)> {
        let mut values = Vec::new();
        let mut dim = 0;
        self.for_each_chunk(|rows, n| {
            let activations = model.backbone.infer(rows, n, device);
            let (chunk_values, chunk_dim) = pollster::block_on(host_features(activations))?;
            values.extend(chunk_values);
            dim = chunk_dim;
            Ok(())
        })?;
        Ok((values, dim))
    }
}
