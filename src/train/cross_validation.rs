//! k-fold cross-validation (a sweep of one run per stratified fold): each fold's scores and their
//! mean ± std.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::sweep::{EntrySplit, Sweep, SweepRow, SweepSpec};
use crate::backbone::{Backbone, BackboneSpec};
use crate::config::TrainConfig;
use crate::data::image::Augment;
use crate::data::{Augmenter, Dataset};
use crate::error::{Error, Result};
use crate::train::recipe::DataProfile;

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

/// Each fold's row of a k-fold sweep, summarised.
pub fn summarize(rows: &[&SweepRow]) -> CrossValidation {
    let folds: Vec<FoldScore> = rows
        .iter()
        .filter_map(|r| match r.split {
            EntrySplit::Fold { index } => Some(FoldScore {
                fold: index,
                loss: r.loss,
                accuracy: r.accuracy,
                macro_f1: r.macro_f1,
            }),
            _ => None,
        })
        .collect();
    let (accuracy_mean, accuracy_std) = mean_std(folds.iter().map(|s| s.accuracy));
    let (macro_f1_mean, macro_f1_std) = mean_std(folds.iter().map(|s| s.macro_f1));
    CrossValidation {
        folds,
        accuracy_mean,
        accuracy_std,
        macro_f1_mean,
        macro_f1_std,
    }
}

/// The settings every fold trains with: the config, the augmentation (as adapted to the
/// examples), and what makes an augmenter of an augmentation (`None`: no augmentation).
pub type FoldSettings<'a> = (
    &'a TrainConfig,
    &'a Augment,
    &'a dyn Fn(&Augment) -> Option<Box<dyn Augmenter>>,
);

/// Trains `k` times (a k-fold sweep), each time holding out one stratified fold, where the data
/// set holds its rows. `settings` are the config, the augmentation (as adapted to the examples)
/// and what makes an augmenter of it; `backbone` builds a fresh backbone (pretrained weights
/// reloaded) on the device it is given for every fold; `model_of` describes the models (`spec`,
/// pretrained bytes). Folds whose backbone is frozen and that do not augment share one cache of
/// its features.
pub async fn cross_validate(
    settings: FoldSettings<'_>,
    k: usize,
    data: &Dataset,
    backbone: &dyn Fn(&Device) -> Result<Backbone>,
    model_of: (&BackboneSpec, Option<&[u8]>),
    device: &Device,
) -> Result<CrossValidation> {
    let (config, augment, augmenter) = settings;
    let spec = SweepSpec::Folds {
        k,
        train_final: false,
    };
    let num_blocks = backbone(device)?.num_blocks();
    // Folds repeat one run's settings (no recipe to adapt): the profile is not consulted.
    let profile = DataProfile::default();
    let mut sweep = Sweep::new(&spec, config, augment, data.clone(), num_blocks, &profile)?;
    let board = sweep
        .run_to_end(backbone, augmenter, model_of, device)
        .await?;
    board
        .cross_validation
        .ok_or_else(|| Error::State("internal: a fold did not finish".into()))
}
