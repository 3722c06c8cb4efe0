#![cfg(not(target_arch = "wasm32"))]
//! Native tests of runs whose data set keeps its rows elsewhere (as a browser keeps its images
//! outside wasm memory): the run asks for the rows each step needs, and trains exactly as on a
//! set that holds them.

mod common;

use common::*;
use kindling::config::{Strategy, TrainConfig};
use kindling::data::{AugmentedElsewhere, Dataset};
use kindling::train::{EpochReport, TrainingRun};

/// The same examples as `held`, with their rows kept outside the set.
fn elsewhere(held: &Dataset) -> Dataset {
    let mut d = Dataset::rows_elsewhere(held.dim());
    for i in 0..held.len() {
        let class = &held.classes()[held.labels()[i]];
        let identity: Vec<u8> = held.row(i).iter().flat_map(|v| v.to_le_bytes()).collect();
        d.add_elsewhere(&identity, class).unwrap();
    }
    d
}

/// Steps `run` to the end, answering its requests with rows from `source` (passed through
/// `augment` when the request is for an augmented batch); returns the reports and the number
/// of rows supplied.
fn fit_supplying(
    run: &mut TrainingRun,
    source: &Dataset,
    augment: impl Fn(Vec<f32>) -> Vec<f32>,
) -> (Vec<EpochReport>, usize) {
    let mut supplied = 0;
    while !run.is_finished() {
        while let Some(request) = run.input_request() {
            let rows = source.gather(&request.indices).unwrap();
            let rows = if request.augmented {
                augment(rows)
            } else {
                rows
            };
            supplied += request.indices.len();
            run.supply_inputs(&request.indices, rows).unwrap();
        }
        pollster::block_on(run.step()).unwrap();
    }
    (run.history().to_vec(), supplied)
}

fn metrics(h: &[EpochReport]) -> Vec<(f64, f64, f64, usize)> {
    h.iter()
        .map(|r| (r.train_loss, r.val_loss, r.val_accuracy, r.trainable_blocks))
        .collect()
}

#[test]
fn a_run_on_supplied_rows_trains_exactly_as_one_on_held_rows() {
    let held = separable(20, 31);
    let mut straight = trainer(gradual_config(), held.clone());
    let full = fit(&mut straight);

    let outside = elsewhere(&held);
    assert!(outside.gather(&[0]).is_err(), "no rows are held");
    assert_eq!(outside.labels(), held.labels());
    let mut run = trainer(gradual_config(), outside);
    let (history, supplied) = fit_supplying(&mut run, &held, |rows| rows);
    assert_eq!(metrics(&history), metrics(&full));
    assert_eq!(params(&run), params(&straight));
    // Each frozen prefix (2, 1, then 0 of the toy backbone's 3 blocks) fills its cache from
    // the rows once; the epochs in between ask for none.
    let prefixes = history
        .iter()
        .map(|r| r.trainable_blocks)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    assert_eq!(
        supplied,
        prefixes * held.len(),
        "one pass over the rows per frozen prefix"
    );
}

#[test]
fn a_step_without_its_rows_is_refused_and_nothing_is_lost() {
    let held = separable(10, 32);
    let mut run = trainer(gradual_config(), elsewhere(&held));
    let request = run.input_request().unwrap();
    assert!(!request.augmented);
    let err = pollster::block_on(run.step()).unwrap_err();
    assert!(err.to_string().contains("supply them first"), "{err}");
    // Wrong examples, a wrong size, a non-finite value: each refused, the request unchanged.
    let wrong: Vec<usize> = request.indices.iter().rev().copied().collect();
    assert!(
        run.supply_inputs(&wrong, held.gather(&wrong).unwrap())
            .is_err()
    );
    let mut rows = held.gather(&request.indices).unwrap();
    assert!(
        run.supply_inputs(&request.indices, rows[1..].to_vec())
            .is_err()
    );
    rows[3] = f32::NAN;
    let err = run.supply_inputs(&request.indices, rows).unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
    assert_eq!(run.input_request(), Some(request.clone()));
    // Supplied properly, the run goes on and finishes.
    let (history, _) = fit_supplying(&mut run, &held, |rows| rows);
    assert_eq!(history.len(), 4);
}

#[test]
fn augmented_batches_are_asked_for_each_step_and_checkpoints_restore() {
    let held = separable(20, 33);
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 1,
        },
        epochs: 3,
        ..gradual_config()
    };
    let jitter = |rows: Vec<f32>| rows.iter().map(|v| v * 1.05).collect::<Vec<f32>>();
    let augmenter = || {
        Some(Box::new(AugmentedElsewhere {
            settings: "jitter 5%".into(),
        }) as Box<dyn kindling::data::Augmenter>)
    };
    let mut run = trainer(config.clone(), elsewhere(&held));
    run.set_augmenter(augmenter());
    let mut batches = 0;
    let mut uncached = 0;
    // One epoch by hand: the cache's rows first (plain), then every batch's (augmented).
    loop {
        if let Some(request) = run.input_request() {
            if request.augmented {
                batches += 1;
                assert!(request.indices.len() <= 16);
            } else {
                uncached += request.indices.len();
            }
            let rows = held.gather(&request.indices).unwrap();
            let rows = if request.augmented {
                jitter(rows)
            } else {
                rows
            };
            run.supply_inputs(&request.indices, rows).unwrap();
        }
        if pollster::block_on(run.step()).unwrap().is_some() {
            break;
        }
    }
    let train = run.split().train.len();
    assert_eq!(batches, train.div_ceil(16));
    assert_eq!(
        uncached,
        held.len(),
        "validation still reads the plain rows' cache"
    );

    let bytes = pollster::block_on(run.checkpoint()).unwrap();
    let (rest, _) = fit_supplying(&mut run, &held, jitter);
    let device = device();
    let mut restored = TrainingRun::from_checkpoint(
        &bytes,
        toy_backbone(&device),
        elsewhere(&held),
        augmenter(),
        &device,
    )
    .unwrap();
    let (again, _) = fit_supplying(&mut restored, &held, jitter);
    assert_eq!(metrics(&again), metrics(&rest));
    assert_eq!(params(&restored), params(&run));
    // Restoring without the augmentation it was trained with is refused.
    let err = TrainingRun::from_checkpoint(
        &bytes,
        toy_backbone(&device),
        elsewhere(&held),
        None,
        &device,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("jitter 5%"), "{err}");
}

#[test]
fn a_cache_file_lets_a_new_run_skip_every_row_and_train_the_same() {
    let held = separable(20, 34);
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 1,
        },
        ..gradual_config()
    };
    let mut first = trainer(config.clone(), elsewhere(&held));
    assert_eq!(
        pollster::block_on(first.export_cache("toy")).unwrap(),
        None,
        "nothing to export before the cache is complete"
    );
    let (history, supplied) = fit_supplying(&mut first, &held, |rows| rows);
    assert_eq!(supplied, held.len());
    let file = pollster::block_on(first.export_cache("toy"))
        .unwrap()
        .unwrap();

    let mut second = trainer(config.clone(), elsewhere(&held));
    second.import_cache(&file, "toy").unwrap();
    assert_eq!(
        second.input_request(),
        None,
        "every row's activations came from the file"
    );
    let (again, supplied) = fit_supplying(&mut second, &held, |rows| rows);
    assert_eq!(supplied, 0);
    assert_eq!(metrics(&again), metrics(&history));
    assert_eq!(params(&second), params(&first));

    // Another backbone, other examples, another frozen prefix, a damaged file: refused with
    // the reason, and the run still asks for its rows.
    let mut other = trainer(config.clone(), elsewhere(&held));
    let err = other.import_cache(&file, "other weights").unwrap_err();
    assert!(
        err.to_string().contains("other pretrained weights"),
        "{err}"
    );
    let mut fewer = trainer(config.clone(), elsewhere(&separable(19, 34)));
    let err = fewer.import_cache(&file, "toy").unwrap_err();
    assert!(err.to_string().contains("other examples"), "{err}");
    let mut frozen = trainer(gradual_config(), elsewhere(&held));
    let err = frozen.import_cache(&file, "toy").unwrap_err();
    assert!(err.to_string().contains("frozen blocks"), "{err}");
    let mut damaged = file.clone();
    let last = damaged.len() - 1;
    damaged.truncate(last);
    assert!(other.import_cache(&damaged, "toy").is_err());
    // A file whose description is right but whose examples have another shape than the frozen
    // blocks make (16 values, not 32) is refused before any layer sees it.
    let meta = serde_json::json!({
        "format": 1, "backbone": "toy", "frozen_blocks": 2, "examples": held.len(),
        "examples_fingerprint": held.fingerprint(), "shape": [held.len(), 16],
    });
    let values = burn::tensor::Tensor::<1>::from_data(
        burn::tensor::TensorData::new(vec![0.5f32; held.len() * 16], [held.len() * 16]),
        &device(),
    );
    let crafted = pollster::block_on(kindling::model::param_file::write_tensors(
        "kindling.cache",
        meta.to_string(),
        vec![("values".into(), values)],
    ))
    .unwrap();
    let err = other.import_cache(&crafted, "toy").unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(other.input_request().is_some());
}
