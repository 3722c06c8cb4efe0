//! k-fold cross-validation: one run per stratified fold, each fold's scores and their mean ± std.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::run::TrainingRun;
use crate::backbone::Backbone;
use crate::config::TrainConfig;
use crate::data::{Dataset, k_fold};
use crate::error::Result;
use crate::rng::Rng;

/// Scores of one fold (on its held-out part, with the weights training kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldScore {
    pub fold: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub macro_f1: f64,
}

/// Every fold's scores and their mean and (population) standard deviation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    pub folds: Vec<FoldScore>,
    pub accuracy_mean: f64,
    pub accuracy_std: f64,
    pub macro_f1_mean: f64,
    pub macro_f1_std: f64,
}

fn mean_std(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = xs.clone().count().max(1) as f64;
    let mean = xs.clone().sum::<f64>() / n;
    let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Trains `k` times, each time holding out one stratified fold. `backbone` builds a fresh
/// backbone (pretrained weights reloaded) for every fold.
pub async fn cross_validate(
    config: &TrainConfig,
    k: usize,
    data: &Dataset,
    backbone: &dyn Fn() -> Result<Backbone>,
    device: &Device,
) -> Result<CrossValidation> {
    let folds = k_fold(
        data.labels(),
        data.num_classes(),
        k,
        &mut Rng::new(config.seed),
    )?;
    let mut scores = Vec::with_capacity(k);
    for (fold, split) in folds.into_iter().enumerate() {
        let mut trainer = TrainingRun::new(
            config.clone(),
            backbone()?,
            data.clone(),
            Some(split),
            device,
        )?;
        trainer.fit().await?;
        let eval = trainer.evaluate().await?;
        scores.push(FoldScore {
            fold,
            loss: eval.loss,
            accuracy: eval.report.accuracy,
            macro_f1: eval.report.macro_f1,
        });
    }
    let (accuracy_mean, accuracy_std) = mean_std(scores.iter().map(|s| s.accuracy));
    let (macro_f1_mean, macro_f1_std) = mean_std(scores.iter().map(|s| s.macro_f1));
    Ok(CrossValidation {
        folds: scores,
        accuracy_mean,
        accuracy_std,
        macro_f1_mean,
        macro_f1_std,
    })
}
