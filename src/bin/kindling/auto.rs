//! `kindling train --recipe auto`: the recipes `auto_plan` names for the data, compared on one
//! split with the sweep machinery (a frozen backbone's features are computed once and shared),
//! the best by validation accuracy written as the model, with what was chosen and why.

use std::path::Path;

use burn::tensor::Device;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::config::TrainConfig;
use kindling::data::image::Augment;
use kindling::model::file::import;
use kindling::train::recipe::{AutoPlan, DataProfile};
use kindling::train::sweep::{Leaderboard, Sweep, SweepSpec, SweepTask};
use kindling::{Error, Result};
use serde::Serialize;

use crate::cli::Outcome;
use crate::held_out::{HeldOut, TestScore};
use crate::progress;
use crate::report::write_file;

/// What `--metrics` holds for an Auto run.
#[derive(Serialize)]
struct AutoMetrics<'a> {
    auto: &'a AutoPlan,
    chosen: &'a str,
    leaderboard: &'a Leaderboard,
    /// The chosen model on the held-out data of `--test`.
    test: Option<TestScore>,
}

/// Where the chosen model and the metrics go.
pub struct Outputs<'a> {
    pub model: &'a Path,
    pub metrics: Option<&'a Path>,
    /// Held-out data to score the chosen model on.
    pub test: Option<&'a HeldOut>,
}

/// `examples`: the data set and what the recipes adapt to in it.
pub fn run(
    base: &TrainConfig,
    examples: (kindling::data::Dataset, &DataProfile),
    model_of: (&BackboneSpec, &[u8]),
    outputs: Outputs,
    device: &Device,
) -> Result<Outcome> {
    let (spec, weights) = model_of;
    let backbone = |d: &Device| Backbone::load(spec, weights, d);
    let num_blocks = backbone(device)?.num_blocks();
    let (data, profile) = examples;
    let mut sweep = Sweep::new(
        &SweepSpec::Auto {},
        base,
        &Augment::default(),
        data,
        num_blocks,
        profile,
    )?;
    let plan = sweep
        .leaderboard()
        .auto
        .ok_or_else(|| Error::State("internal: an auto sweep without its plan".into()))?;
    println!(
        "auto: comparing {} — {}",
        plan.recipes.join(" and "),
        plan.why
    );
    // The images are read once, at the evaluation size, for the recipes Auto compares (Quick and
    // Balanced), none of which augments; a plan that did would need them kept larger for crops.
    if let Some(entry) = sweep.entries().iter().find(|e| e.augment.any()) {
        return Err(Error::State(format!(
            "internal: auto's {} augments its images, which the command line does not read for auto",
            entry.name
        )));
    }
    let mut models = Vec::new();
    while let Some((task, mut run)) = sweep.start_next(&backbone, device)? {
        match task {
            SweepTask::Baseline => {
                run.fill_cache()?;
                pollster::block_on(sweep.finish_baseline(run))?;
            }
            SweepTask::Entry(i) => {
                let name = sweep.entries()[i].name.clone();
                let bar = progress::bar(run.config().epochs, &name, "epochs");
                while !run.is_finished() {
                    pollster::block_on(run.run_epoch())?;
                    bar.inc(1);
                }
                bar.finish_and_clear();
                let (row, model) =
                    pollster::block_on(sweep.finish_entry(i, run, spec, Some(weights)))?;
                println!(
                    "{name}: validation accuracy {:.1}%, macro-F1 {:.3}, {} epoch(s), {:.0} s",
                    100.0 * row.accuracy,
                    row.macro_f1,
                    row.epochs_run,
                    row.seconds
                );
                models.push(model);
            }
        }
    }
    let board = sweep.leaderboard();
    let best = *board
        .ranking
        .first()
        .ok_or_else(|| Error::State("internal: the comparison ranked no run".into()))?;
    let chosen = &board.rows[best];
    let model = models
        .get(best)
        .ok_or_else(|| Error::State("internal: the chosen run's model is missing".into()))?;
    let others: Vec<String> = board
        .ranking
        .iter()
        .skip(1)
        .map(|&i| {
            format!(
                "{} {:.1}%",
                board.rows[i].name,
                100.0 * board.rows[i].accuracy
            )
        })
        .collect();
    let against = match others.is_empty() {
        true => String::new(),
        false => format!(" against {}", others.join(", ")),
    };
    println!(
        "auto chose {}: the highest validation accuracy, {:.1}%{against} (a tie goes to the recipe listed first, the faster)",
        chosen.name,
        100.0 * chosen.accuracy
    );
    write_file(outputs.model, model, "model file")?;
    let test = match outputs.test {
        Some(test) => {
            let device = device.clone().autodiff();
            let (classifier, _) = import(model, None, Some(weights), &device)?;
            let score = test.score(&classifier, &device)?;
            println!("held-out test: {}", score.summary());
            Some(score)
        }
        None => None,
    };
    if let Some(path) = outputs.metrics {
        let metrics = AutoMetrics {
            auto: &plan,
            chosen: &chosen.name,
            leaderboard: &board,
            test,
        };
        let json = serde_json::to_vec_pretty(&metrics)
            .map_err(|e| Error::State(format!("internal: metrics: {e}")))?;
        write_file(path, &json, "metrics")?;
    }
    println!("model: {}", outputs.model.display());
    Ok(Outcome::Done)
}
