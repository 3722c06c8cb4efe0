#![cfg(not(target_arch = "wasm32"))]
//! Native tests of sweeps: shared caches, ranking, equality with a run alone, k-fold, and the
//! resources each row reports.

mod common;

use common::*;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::config::{HeadFit, TrainConfig};
use kindling::data::Dataset;
use kindling::data::image::Augment;
use kindling::train::TrainingRun;
use kindling::train::recipe::DataProfile;
use kindling::train::sweep::{EntrySplit, Leaderboard, Sweep, SweepSpec};

fn base() -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 16,
        learning_rate: 1e-2,
        early_stopping: None,
        // These tests are of the epochs' machinery (rates, early stopping, batches), which
        // the default convex fit of a linear head does not use.
        head_fit: HeadFit::Epochs,
        ..TrainConfig::default()
    }
}

fn toy_spec() -> BackboneSpec {
    BackboneSpec::ToyMlp {
        widths: vec![DIM, 32, 32, 32],
    }
}

fn run_sweep(spec: &str, config: &TrainConfig, data: &Dataset) -> Leaderboard {
    let device = device();
    let spec: SweepSpec = serde_json::from_str(spec).unwrap();
    let mut sweep = Sweep::new(
        &spec,
        config,
        &Augment::default(),
        data.clone(),
        3,
        &DataProfile::default(),
    )
    .unwrap();
    let backbone = |d: &burn::tensor::Device| Ok(toy_backbone(d));
    pollster::block_on(sweep.run_to_end(&backbone, &|_| None, (&toy_spec(), None), &device))
        .unwrap()
}

#[test]
fn frozen_runs_share_one_cache_rank_and_the_best_equals_the_run_alone() {
    let data = separable(30, 7);
    let board = run_sweep(
        r#"{"grid": {"learning_rate": [0.00001, 0.01, 0.003]}}"#,
        &base(),
        &data,
    );
    assert_eq!((board.rows.len(), board.planned), (3, 3));
    // The baseline task computed the features once (90 examples: one chunk); every run reused them.
    assert_eq!(board.cache_chunks_computed, 1, "{board:?}");
    assert!(board.rows.iter().all(|r| r.cache_reused));
    // Ranked by accuracy, then macro-F1; the tiny learning rate barely moves its head.
    let accuracies: Vec<f64> = board
        .ranking
        .iter()
        .map(|&i| board.rows[i].accuracy)
        .collect();
    assert!(
        accuracies.windows(2).all(|w| w[0] >= w[1]),
        "{accuracies:?}"
    );
    assert_eq!(*board.ranking.last().unwrap(), 0, "{accuracies:?}");
    assert!(board.rows[0].accuracy < board.rows[1].accuracy);

    let best = &board.rows[board.ranking[0]];
    let device = device();
    let mut alone = TrainingRun::new(
        best.config.clone(),
        toy_backbone(&device),
        data.clone(),
        None,
        &device,
    )
    .unwrap();
    let history = fit(&mut alone);
    let evaluation = pollster::block_on(alone.evaluate()).unwrap();
    assert_eq!(evaluation.report.accuracy, best.accuracy);
    assert_eq!(evaluation.report.macro_f1, best.macro_f1);
    assert!(
        (evaluation.loss - best.loss).abs() < 1e-6,
        "{} vs {}",
        evaluation.loss,
        best.loss
    );
    let val = |h: &[kindling::train::EpochReport]| -> Vec<f64> {
        h.iter().map(|r| r.val_accuracy).collect()
    };
    assert_eq!(val(&history), val(&best.history));
}

#[test]
fn rows_report_the_baseline_gain_and_what_the_run_cost() {
    let data = separable(30, 8);
    let board = run_sweep(r#"{"recipes": ["quick", "balanced"]}"#, &base(), &data);
    let baselines = board.baselines.clone().unwrap();
    let baseline = baselines.nearest_centroid.max(baselines.knn);
    assert!(baseline > 0.9, "separable data: {baselines:?}");
    for row in &board.rows {
        assert_eq!(row.baseline_accuracy, Some(baseline));
        let gain = row.gain_points.unwrap();
        assert!((gain - (row.accuracy - baseline) * 100.0).abs() < 1e-9);
        assert_eq!(row.epochs_run, 4);
        assert_eq!(row.kept_epoch, Some(3));
        assert!(row.seconds > 0.0 && row.seconds_per_epoch > 0.0 && row.step_ms > 0.0);
        assert!(row.inference_ms > 0.0 && row.inference_ms_batched > 0.0);
        assert!(row.model_bytes > 1000 && row.estimated_peak_bytes > 0);
        assert_eq!(row.history.len(), 4);
        assert!(row.evaluation.hardest.len() <= 20);
    }
    assert_eq!(board.rows[1].name, "balanced");
    assert_eq!(board.rows[1].config.head.hidden, vec![128]);
}

#[test]
fn a_partly_frozen_cache_is_kept_for_the_next_run_with_the_same_prefix() {
    let data = separable(30, 9);
    let board = run_sweep(
        r#"{"grid": {"strategy": [{"kind": "partial", "trainable_blocks": 1}], "learning_rate": [0.01, 0.003]}}"#,
        &base(),
        &data,
    );
    // The baseline's whole-backbone features (1 chunk), then the first run's 2-block prefix (3
    // steps of 32 examples); the second run adopts that one.
    assert_eq!(board.cache_chunks_computed, 4, "{board:?}");
    assert!(!board.rows[0].cache_reused);
    assert!(board.rows[1].cache_reused);
}

#[test]
fn k_fold_reports_each_fold_mean_and_std_and_trains_the_final_model() {
    let data = separable(15, 13);
    let board = run_sweep(
        r#"{"folds": {"k": 3, "train_final": true}}"#,
        &TrainConfig {
            epochs: 8,
            ..base()
        },
        &data,
    );
    let cv = board.cross_validation.clone().unwrap();
    assert_eq!(cv.folds.len(), 3);
    assert!(cv.accuracy_mean >= 0.95, "{cv:?}");
    let mean = cv.folds.iter().map(|f| f.accuracy).sum::<f64>() / 3.0;
    let std = (cv
        .folds
        .iter()
        .map(|f| (f.accuracy - mean).powi(2))
        .sum::<f64>()
        / 3.0)
        .sqrt();
    assert!((cv.accuracy_mean - mean).abs() < 1e-12, "{cv:?}");
    assert!((cv.accuracy_std - std).abs() < 1e-12, "{cv:?}");
    // Each fold validates on its own third; the final model trains on every example and is
    // not ranked (its figures are on training examples).
    let folds: Vec<&kindling::train::sweep::SweepRow> = board.rows[..3].iter().collect();
    let held_out: usize = folds
        .iter()
        .map(|r| {
            r.evaluation
                .report
                .confusion
                .counts
                .iter()
                .flatten()
                .sum::<usize>()
        })
        .sum();
    assert_eq!(held_out, data.len());
    assert_eq!(board.rows[3].split, EntrySplit::All);
    assert_eq!(board.ranking.len(), 3);
    assert_eq!(
        board.cache_chunks_computed, 1,
        "every fold shares the features"
    );
}

#[test]
fn runs_are_taken_back_only_finished_and_in_order() {
    let device = device();
    let spec: SweepSpec = serde_json::from_str(r#"{"recipes": ["quick"]}"#).unwrap();
    let data = separable(10, 3);
    let mut sweep = Sweep::new(
        &spec,
        &base(),
        &Augment::default(),
        data,
        3,
        &DataProfile::default(),
    )
    .unwrap();
    let toy = |d: &burn::tensor::Device| -> kindling::Result<Backbone> { Ok(toy_backbone(d)) };
    let (_, run) = sweep.start_next(&toy, &device).unwrap().unwrap();
    let err = pollster::block_on(sweep.finish_baseline(run))
        .err()
        .unwrap();
    assert!(err.to_string().contains("not complete"), "{err}");
    let (_, mut run) = sweep.start_next(&toy, &device).unwrap().unwrap();
    run.fill_cache().unwrap();
    pollster::block_on(sweep.finish_baseline(run)).unwrap();
    let (_, run) = sweep.start_next(&toy, &device).unwrap().unwrap();
    let err = pollster::block_on(sweep.finish_entry(0, run, &toy_spec(), None))
        .err()
        .unwrap();
    assert!(err.to_string().contains("not finished"), "{err}");
    let (_, mut run) = sweep.start_next(&toy, &device).unwrap().unwrap();
    fit(&mut run);
    let err = pollster::block_on(sweep.finish_entry(1, run, &toy_spec(), None))
        .err()
        .unwrap();
    assert!(err.to_string().contains("entry 1"), "{err}");
}

#[test]
fn gradient_checkpointing_trains_the_same_model_and_keeps_its_own_cache() {
    let data = separable(30, 11);
    let board = run_sweep(
        r#"{"grid": {"strategy": [{"kind": "partial", "trainable_blocks": 2}], "gradient_checkpointing": [false, true]}}"#,
        &base(),
        &data,
    );
    let (plain, checkpointed) = (&board.rows[0], &board.rows[1]);
    assert!(checkpointed.config.gradient_checkpointing);
    // Recomputing activations in the backward pass changes nothing but memory and time.
    assert_eq!(plain.accuracy, checkpointed.accuracy);
    let val = |r: &kindling::train::sweep::SweepRow| -> Vec<f64> {
        r.history.iter().map(|h| h.val_loss).collect()
    };
    for (a, b) in val(plain).iter().zip(val(checkpointed)) {
        assert!(
            (a - b).abs() < 1e-5,
            "{:?} vs {:?}",
            val(plain),
            val(checkpointed)
        );
    }
    // Tensors with and without checkpointing cannot meet: the second run computed its own cache.
    assert!(!checkpointed.cache_reused);
}
