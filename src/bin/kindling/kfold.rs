//! `kindling train --k-fold K`: k-fold cross-validation of one recipe's settings (a sweep of
//! stratified folds sharing the frozen backbone's features): each fold's scores and their
//! mean ± std, printed and written with `--metrics`; no model is written.

use std::path::Path;

use burn::tensor::Device;
use kindling::Result;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::data::Dataset;
use kindling::train::cross_validation::{FoldSettings, cross_validate};

use crate::cli::Outcome;
use crate::report::{Metrics, write_metrics};

pub fn run(
    settings: FoldSettings,
    k: usize,
    data: &Dataset,
    model_of: (&BackboneSpec, &[u8]),
    metrics: Option<&Path>,
    device: &Device,
) -> Result<Outcome> {
    let (spec, weights) = model_of;
    let backbone = |device: &Device| Backbone::load(spec, weights, device);
    let cv = pollster::block_on(cross_validate(
        settings,
        k,
        data,
        &backbone,
        (spec, Some(weights)),
        device,
    ))?;
    for f in &cv.folds {
        println!(
            "fold {}: accuracy {:.1}%, macro-F1 {:.3}",
            f.fold + 1,
            100.0 * f.accuracy,
            f.macro_f1
        );
    }
    println!(
        "mean: accuracy {:.1}% ± {:.1}, macro-F1 {:.3} ± {:.3}",
        100.0 * cv.accuracy_mean,
        100.0 * cv.accuracy_std,
        cv.macro_f1_mean,
        cv.macro_f1_std
    );
    let report = Metrics {
        history: &[],
        baselines: None,
        stopped: None,
        interrupted: false,
        evaluation: None,
        cross_validation: Some(cv),
        test: None,
        examples: data.len(),
        classes: data.classes(),
    };
    write_metrics(metrics, &report)?;
    Ok(Outcome::Done)
}
