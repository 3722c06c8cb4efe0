#![cfg(not(target_arch = "wasm32"))]
//! Native tests of the training engine on the CPU backend with a small multi-block backbone.

mod common;

use common::*;
use kindling::config::{
    Balance, EarlyStopping, GradClip, HeadConfig, Monitor, OptimizerConfig, Strategy,
};
use kindling::config::{HeadFit, TrainConfig};

fn base() -> TrainConfig {
    TrainConfig {
        epochs: 8,
        batch_size: 16,
        learning_rate: 1e-2,
        early_stopping: None,
        // These tests are of the epochs' machinery (rates, early stopping, batches), which
        // the default convex fit of a linear head does not use.
        head_fit: HeadFit::Epochs,
        ..TrainConfig::default()
    }
}

fn final_accuracy(strategy: Strategy) -> f64 {
    let mut t = trainer(TrainConfig { strategy, ..base() }, separable(40, 1));
    let h = fit(&mut t);
    h.last().unwrap().val_accuracy
}

#[test]
fn every_strategy_learns_separable_data() {
    for strategy in [
        Strategy::FeatureExtraction,
        Strategy::Partial {
            trainable_blocks: 2,
        },
        Strategy::Gradual {
            every_epochs: 2,
            max_blocks: None,
        },
        Strategy::Full,
    ] {
        let acc = final_accuracy(strategy.clone());
        assert!(acc >= 0.95, "{strategy:?}: validation accuracy {acc}");
    }
}

#[test]
fn mlp_head_with_dropout_sgd_nesterov_and_clipping_learns() {
    let config = TrainConfig {
        head: HeadConfig {
            hidden: vec![24],
            dropout: 0.2,
            ..HeadConfig::default()
        },
        optimizer: OptimizerConfig::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        grad_clip: Some(GradClip::Norm { max_norm: 1.0 }),
        accumulation_steps: 2,
        label_smoothing: 0.1,
        balance: Balance::WeightedLoss,
        learning_rate: 0.05,
        ..base()
    };
    let mut t = trainer(config, separable(40, 2));
    let h = fit(&mut t);
    assert!(h.last().unwrap().val_accuracy >= 0.95, "{:?}", h.last());
}

#[test]
fn frozen_parameters_stay_bit_identical_and_trainable_ones_change() {
    let mut t = trainer(
        TrainConfig {
            strategy: Strategy::Partial {
                trainable_blocks: 1,
            },
            epochs: 2,
            ..base()
        },
        separable(20, 3),
    );
    let before = params(&t);
    fit(&mut t);
    let after = params(&t);
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        let frozen = path.contains("blocks.0.") || path.contains("blocks.1.");
        if frozen {
            assert_eq!(b, a, "{path} is frozen but changed");
        } else {
            assert_ne!(b, a, "{path} trains but did not change");
        }
    }
}

#[test]
fn gradual_unfreezing_follows_its_schedule() {
    let config = TrainConfig {
        strategy: Strategy::Gradual {
            every_epochs: 2,
            max_blocks: Some(2),
        },
        epochs: 7,
        ..base()
    };
    let mut t = trainer(config, separable(10, 4));
    let plan: Vec<usize> = fit(&mut t).iter().map(|r| r.trainable_blocks).collect();
    assert_eq!(plan, vec![0, 0, 1, 1, 2, 2, 2]);
}

/// Distance moved by block 0 after one plain-SGD step over the whole training set.
fn block0_step(multiplier: f64) -> f64 {
    let config = TrainConfig {
        strategy: Strategy::Full,
        optimizer: OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        weight_decay: 0.0,
        backbone_lr_multiplier: multiplier,
        batch_size: 1000,
        epochs: 1,
        ..base()
    };
    let mut t = trainer(config, separable(20, 5));
    let before = params(&t);
    fit(&mut t);
    let after = params(&t);
    before
        .iter()
        .zip(&after)
        .filter(|((p, _), _)| p.contains("blocks.0."))
        .map(|((_, b), (_, a))| {
            b.iter()
                .zip(a)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        .sqrt()
}

#[test]
fn discriminative_rates_scale_each_group() {
    let ratio = block0_step(0.5) / block0_step(0.05);
    assert!((ratio - 10.0).abs() < 0.05, "ratio {ratio}");
}

fn drift_from_start(l2sp: f64) -> f64 {
    let config = TrainConfig {
        strategy: Strategy::Full,
        l2sp,
        learning_rate: 0.05,
        epochs: 6,
        ..base()
    };
    let mut t = trainer(config, separable(30, 6));
    let before = params(&t);
    fit(&mut t);
    params(&t)
        .iter()
        .zip(&before)
        .filter(|((p, _), _)| p.starts_with("backbone"))
        .map(|((_, a), (_, b))| {
            a.iter()
                .zip(b)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum::<f64>()
        })
        .sum()
}

#[test]
fn l2sp_pulls_backbone_weights_toward_their_start() {
    let free = drift_from_start(0.0);
    let held = drift_from_start(5.0);
    assert!(
        held < 0.5 * free,
        "L2-SP penalty {held} vs {free} without it"
    );
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    let config = TrainConfig {
        epochs: 10,
        early_stopping: Some(EarlyStopping {
            monitor: Monitor::Accuracy,
            patience: 2,
            min_delta: 2.0,
        }),
        // The losses compared are the weights' own (temperature scaling would change them).
        calibrate: false,
        ..base()
    };
    let mut t = trainer(config, separable(20, 7));
    let h = fit(&mut t);
    assert_eq!(h.len(), 3, "stops after patience epochs");
    assert!(h[2].stopped.as_deref().unwrap().contains("early stop"));
    assert_eq!(t.best_epoch(), Some(0));
    let eval = pollster::block_on(t.evaluate()).unwrap();
    assert!(
        (eval.loss - h[0].val_loss).abs() < 1e-6,
        "restored loss {} vs best {}",
        eval.loss,
        h[0].val_loss
    );
    assert!((eval.loss - h[2].val_loss).abs() > 1e-6);
}

#[test]
fn divergence_is_caught_and_the_last_good_weights_kept() {
    let mut data = kindling::data::Dataset::new(DIM);
    let base_data = separable(20, 8);
    for i in 0..base_data.len() {
        let row: Vec<f32> = base_data.row(i).iter().map(|v| v * 1e4).collect();
        data.add(&row, &base_data.classes()[base_data.labels()[i]])
            .unwrap();
    }
    let config = TrainConfig {
        strategy: Strategy::Full,
        optimizer: OptimizerConfig::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        learning_rate: 1.0,
        weight_decay: 0.0,
        backbone_lr_multiplier: 1.0,
        epochs: 10,
        ..base()
    };
    let mut t = trainer(config, data);
    let h = fit(&mut t);
    let last = h.last().unwrap();
    let msg = last.stopped.as_deref().expect("stopped");
    assert!(
        msg.contains("diverged") && msg.contains("learning rate"),
        "{msg}"
    );
    let eval = pollster::block_on(t.evaluate()).unwrap();
    assert!(eval.loss.is_finite(), "kept weights give a finite loss");
}

#[test]
fn same_seed_same_metrics() {
    let run = || {
        let mut t = trainer(
            TrainConfig {
                strategy: Strategy::Partial {
                    trainable_blocks: 1,
                },
                epochs: 3,
                ..base()
            },
            separable(20, 9),
        );
        fit(&mut t)
            .into_iter()
            .map(|r| (r.train_loss, r.val_loss, r.val_accuracy))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn evaluation_and_prediction_report_every_class() {
    let mut t = trainer(base(), separable(20, 10));
    fit(&mut t);
    let eval = pollster::block_on(t.evaluate()).unwrap();
    assert_eq!(eval.report.per_class.len(), CLASSES);
    assert_eq!(eval.hardest.len(), t.split().validation.len());
    assert!(eval.hardest.windows(2).all(|w| w[0].loss >= w[1].loss));
    let data = separable(20, 10);
    let preds = pollster::block_on(t.predict(data.row(0), 2)).unwrap();
    assert_eq!(preds[0].classes.len(), 2);
    assert_eq!(preds[0].classes[0], data.labels()[0]);
    assert!(pollster::block_on(t.predict(&[1.0; DIM + 1], 2)).is_err());
}

#[test]
fn bad_inputs_return_errors_that_name_the_problem() {
    let device = device();
    let build = |config: TrainConfig, data| {
        kindling::train::TrainingRun::new(config, toy_backbone(&device), data, None, &device)
    };
    let cases: Vec<(TrainConfig, &str)> = vec![
        (
            TrainConfig {
                learning_rate: 0.0,
                ..base()
            },
            "learning_rate",
        ),
        (
            TrainConfig {
                batch_size: 0,
                ..base()
            },
            "batch_size",
        ),
        (
            TrainConfig {
                validation_fraction: 1.0,
                ..base()
            },
            "validation_fraction",
        ),
        (
            TrainConfig {
                strategy: Strategy::Partial {
                    trainable_blocks: 4,
                },
                ..base()
            },
            "trainable_blocks",
        ),
        (
            TrainConfig {
                head: HeadConfig {
                    dropout: 1.0,
                    ..HeadConfig::default()
                },
                ..base()
            },
            "dropout",
        ),
    ];
    for (config, field) in cases {
        let err = build(config, separable(5, 1))
            .err()
            .expect("an error")
            .to_string();
        assert!(err.contains(field), "{err}");
    }
    let mut one_class = kindling::data::Dataset::new(DIM);
    one_class.add(&[0.0; DIM], "only").unwrap();
    one_class.add(&[1.0; DIM], "only").unwrap();
    let err = build(base(), one_class).err().unwrap().to_string();
    assert!(err.contains("at least 2 classes"), "{err}");
    let mut empty_class = separable(5, 1);
    empty_class.class_index("ghost").unwrap();
    assert!(
        build(base(), empty_class)
            .err()
            .unwrap()
            .to_string()
            .contains("ghost")
    );
    let mut wrong_dim = kindling::data::Dataset::new(3);
    wrong_dim.add(&[0.0; 3], "a").unwrap();
    wrong_dim.add(&[0.0; 3], "b").unwrap();
    assert!(
        build(base(), wrong_dim)
            .err()
            .unwrap()
            .to_string()
            .contains("expects 16")
    );
}

#[test]
fn a_resumed_checkpoint_matches_an_uninterrupted_run() {
    // Exactly, bit for bit, on one thread. On several, a fine-tuning batch runs in shards at once
    // (train/run/shards.rs), and two identical runs can differ in the last bit of a loss (seen:
    // one epoch's training loss, 1 ULP; the cause inside burn's kernels was not pinned down);
    // tests/threads.rs bounds what threads change.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(resume_and_compare);
}

fn resume_and_compare() {
    let config = gradual_config();
    let metrics = |h: &[kindling::train::EpochReport]| {
        h.iter()
            .map(|r| (r.train_loss, r.val_loss, r.trainable_blocks))
            .collect::<Vec<_>>()
    };
    let mut straight = trainer(config.clone(), separable(20, 12));
    let full = fit(&mut straight);

    let mut first = trainer(config, separable(20, 12));
    pollster::block_on(first.run_epoch()).unwrap();
    pollster::block_on(first.run_epoch()).unwrap();
    let bytes = pollster::block_on(first.checkpoint()).unwrap();
    // Blocks that have not trained yet are left out (they come from the pretrained weights).
    let stored = kindling::train::checkpoint::read(&bytes).unwrap().tensors;
    let blocks = first.model().backbone.num_blocks();
    assert!(
        stored
            .keys()
            .any(|k| k.starts_with("model/") && k.contains(&format!("blocks.{}.", blocks - 1)))
    );
    assert!(
        !stored.keys().any(|k| k.contains("blocks.0.")),
        "{:?}",
        stored.keys()
    );
    let device = device();
    let mut resumed = kindling::train::TrainingRun::from_checkpoint(
        &bytes,
        toy_backbone(&device),
        separable(20, 12),
        None,
        &device,
    )
    .unwrap();
    let rest = fit(&mut resumed);
    assert_eq!(metrics(&rest), metrics(&full));
    assert_eq!(params(&resumed), params(&straight));

    let err = kindling::train::TrainingRun::from_checkpoint(
        &bytes,
        toy_backbone(&device),
        separable(21, 12),
        None,
        &device,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("examples"), "{err}");
    assert!(
        kindling::train::TrainingRun::from_checkpoint(
            b"junk",
            toy_backbone(&device),
            separable(20, 12),
            None,
            &device
        )
        .is_err()
    );
}

#[test]
fn the_augmentation_hook_feeds_training_batches() {
    let data = separable(20, 14);
    let mut t = trainer(
        TrainConfig {
            strategy: Strategy::Partial {
                trainable_blocks: 1,
            },
            ..base()
        },
        data.clone(),
    );
    t.set_augmenter(Some(Box::new(Jitter(data.clone()))));
    let augmented = fit(&mut t);
    let mut plain = trainer(
        TrainConfig {
            strategy: Strategy::Partial {
                trainable_blocks: 1,
            },
            ..base()
        },
        data,
    );
    let h = fit(&mut plain);
    assert_ne!(
        augmented[0].train_loss, h[0].train_loss,
        "augmented inputs change training"
    );
    assert!(
        augmented.last().unwrap().val_accuracy >= 0.95,
        "{augmented:?} vs {h:?}"
    );
}

#[test]
fn a_checkpoint_restores_only_with_its_augmentation() {
    let data = separable(20, 14);
    let config = TrainConfig {
        epochs: 3,
        ..base()
    };
    let mut straight = trainer(config.clone(), data.clone());
    straight.set_augmenter(Some(Box::new(Jitter(data.clone()))));
    let full = fit(&mut straight);
    let mut t = trainer(config, data.clone());
    t.set_augmenter(Some(Box::new(Jitter(data.clone()))));
    pollster::block_on(t.run_epoch()).unwrap();
    let bytes = pollster::block_on(t.checkpoint()).unwrap();
    let device = device();
    let restore = |augmenter: Option<Box<dyn kindling::data::Augmenter>>| {
        kindling::train::TrainingRun::from_checkpoint(
            &bytes,
            toy_backbone(&device),
            data.clone(),
            augmenter,
            &device,
        )
    };
    let err = restore(None).err().unwrap();
    assert!(err.to_string().contains("jitter 0.1"), "{err}");
    let mut resumed = restore(Some(Box::new(Jitter(data.clone())))).unwrap();
    let rest = fit(&mut resumed);
    // The restored run draws the same augmented batches: it ends where the straight one did.
    assert_eq!(
        rest.last().unwrap().train_loss,
        full.last().unwrap().train_loss
    );
    assert_eq!(params(&resumed), params(&straight));
}

#[test]
fn reports_carry_rates_timing_and_top_k() {
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 2,
        },
        backbone_lr_multiplier: 0.1,
        backbone_lr_decay: 0.5,
        epochs: 2,
        ..base()
    };
    let mut t = trainer(config, separable(20, 15));
    let h = fit(&mut t);
    let r = &h[1];
    assert_eq!(r.block_learning_rates.len(), 2);
    assert!((r.block_learning_rates[1] - r.learning_rate * 0.1).abs() < 1e-12);
    assert!((r.block_learning_rates[0] - r.learning_rate * 0.05).abs() < 1e-12);
    assert!(r.step_ms > 0.0 && r.examples_per_second > 0.0 && r.elapsed_seconds >= r.epoch_seconds);
    assert_eq!(h[0].eta_seconds, h[0].epoch_seconds);
    // top_k (3 by default) covers all 3 classes: every example's class is among them.
    assert_eq!(r.val_top_k_accuracy, 1.0, "{r:?}");
}

#[test]
fn a_fixed_validation_set_is_used_as_given() {
    let device = device();
    let data = separable(10, 16);
    let split = kindling::data::Split {
        train: (0..24).collect(),
        validation: (24..30).collect(),
    };
    let t = kindling::train::TrainingRun::new(
        base(),
        toy_backbone(&device),
        data.clone(),
        Some(split.clone()),
        &device,
    )
    .unwrap();
    assert_eq!(t.split(), &split);
    let bad = kindling::data::Split {
        train: vec![0, 1],
        validation: vec![99],
    };
    let err =
        kindling::train::TrainingRun::new(base(), toy_backbone(&device), data, Some(bad), &device)
            .err()
            .unwrap();
    assert!(err.to_string().contains("example 99"), "{err}");
}

#[test]
fn an_exported_model_imports_and_predicts_the_same() {
    use kindling::backbone::BackboneSpec;
    use kindling::model::file::{ModelInfo, export, import};
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 1,
        },
        head: HeadConfig {
            hidden: vec![8],
            ..HeadConfig::default()
        },
        ..base()
    };
    let mut t = trainer(config.clone(), separable(20, 17));
    fit(&mut t);
    let spec = BackboneSpec::ToyMlp {
        widths: vec![DIM, 32, 32, 32],
    };
    let info = ModelInfo {
        format: kindling::model::file::FORMAT,
        kindling_version: "test".into(),
        backbone: spec.clone(),
        backbone_hash: None,
        classes: t.classes().to_vec(),
        preprocess: None,
        config,
        temperature: None,
        every_layer: false,
    };
    let bytes = pollster::block_on(export(t.model(), &info)).unwrap();
    let device = device();
    let (model, back) = import(&bytes, Some(&spec), None, &device).unwrap();
    // The run ended calibrated; the file carries the temperature it applied, if any.
    let calibration = t.calibration().cloned().unwrap();
    let evaluation = pollster::block_on(t.evaluate()).unwrap();
    assert_eq!(evaluation.calibration.as_ref(), Some(&calibration));
    assert!((evaluation.expected_calibration_error - calibration.ece_after).abs() < 1e-4);
    let applied = calibration.applied.then_some(calibration.temperature);
    assert_eq!(
        back,
        ModelInfo {
            temperature: applied,
            ..info
        }
    );
    assert_eq!(model.head.temperature, calibration.temperature);
    let rows = separable(20, 17).gather(&[0, 1, 2, 3, 4, 5]).unwrap();
    let a = pollster::block_on(t.predict(&rows, 3)).unwrap();
    let b = pollster::block_on(kindling::model::predict(&model, &rows, 3, &device)).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.classes, y.classes);
        assert!(
            x.probabilities
                .iter()
                .zip(&y.probabilities)
                .all(|(p, q)| (p - q).abs() < 1e-6)
        );
    }
    let other = BackboneSpec::ToyMlp {
        widths: vec![DIM, 8],
    };
    let err = import(&bytes, Some(&other), None, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("trained on"), "{err}");
    assert!(import(&bytes[..100], None, None, &device).is_err());
}

#[test]
fn the_activation_cache_fills_one_chunk_per_step_with_progress() {
    // 3 × 30 examples with a frozen prefix of 2 blocks: 90 rows to cache, 32 per step.
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 1,
        },
        epochs: 1,
        ..base()
    };
    let mut t = trainer(config, separable(30, 21));
    assert_eq!(t.caching_progress(), Some((0, 90)));
    let mut seen = Vec::new();
    while let Some(progress) = t.caching_progress() {
        seen.push(progress);
        assert!(pollster::block_on(t.step()).unwrap().is_none());
    }
    assert_eq!(seen, vec![(0, 90), (32, 90), (64, 90)]);
    let reports = fit(&mut t);
    assert_eq!(reports.len(), 1);
    assert!(reports[0].val_accuracy >= 0.9, "{:?}", reports[0]);
    assert_eq!(t.caching_progress(), None);
}

/// One truth about the kept model: stopped in the middle of an epoch, a run is evaluated (and
/// exported, and asked for predictions) by its kept weights — the best epoch's under early
/// stopping, else the last completed epoch's — never by its half-trained ones, and the
/// evaluation names that epoch.
#[test]
fn mid_epoch_the_kept_model_is_the_one_evaluated() {
    for early in [true, false] {
        let config = TrainConfig {
            epochs: 6,
            batch_size: 4,
            early_stopping: early.then(|| EarlyStopping {
                patience: 100,
                ..EarlyStopping::default()
            }),
            ..base()
        };
        let mut t = trainer(config, separable(8, 21));
        pollster::block_on(t.run_epoch()).unwrap();
        pollster::block_on(t.run_epoch()).unwrap();
        let between = pollster::block_on(t.evaluate()).unwrap();
        let expected_epoch = if early { t.best_epoch() } else { Some(1) };
        assert_eq!(between.epoch, expected_epoch, "early stopping {early}");
        // Two batches into the third epoch: the weights have moved, the kept ones have not.
        pollster::block_on(t.step()).unwrap();
        pollster::block_on(t.step()).unwrap();
        let mid = pollster::block_on(t.evaluate()).unwrap();
        assert_eq!(mid.epoch, expected_epoch);
        assert_eq!(mid.loss, between.loss, "early stopping {early}");
        assert_eq!(mid.report, between.report);
        assert_ne!(
            params_of(t.model()),
            params_of(t.kept_model()),
            "the run's own weights did move"
        );
    }
}
