#![cfg(not(target_arch = "wasm32"))]
//! Native tests of a run's memory estimate against hand-computed figures, and of the refusal
//! that names what to change.

mod common;

use common::*;
use kindling::config::{Strategy, TrainConfig};

fn config(strategy: Strategy) -> TrainConfig {
    TrainConfig {
        strategy,
        epochs: 2,
        batch_size: 16,
        early_stopping: None,
        ..TrainConfig::default()
    }
}

#[test]
fn the_estimate_adds_up_what_a_run_holds() {
    // The toy backbone: blocks 16→32→32→32 (activations of 16, 32, 32, 32 values); 544, 1056 and
    // 1056 parameters; a linear head 32→3 of 99. One block trains, so 2 are frozen.
    let run = trainer(
        config(Strategy::Partial {
            trainable_blocks: 1,
        }),
        separable(20, 41),
    );
    let e = run.memory_estimate();
    assert_eq!(
        (e.examples, e.frozen_blocks, e.trainable_blocks),
        (60, 2, 1)
    );
    assert_eq!(
        e.cache_bytes,
        4 * 2 * 60 * 32,
        "60 examples × 32 values, twice while joined"
    );
    assert_eq!(e.example_bytes, 4 * 60 * 16, "the rows held");
    let (all, trained) = (544 + 1056 + 1056 + 99, 1056 + 99);
    assert_eq!(e.weights_bytes, 4 * (all + 2 * trained));
    assert_eq!(
        e.optimizer_bytes,
        4 * 3 * trained,
        "gradient and two moments"
    );
    assert_eq!(
        e.batch_bytes,
        4 * 16 * (32 * 24 + 32),
        "kept for backward, and the batch's cache rows"
    );
    assert_eq!(
        e.total_bytes,
        e.cache_bytes + e.example_bytes + e.weights_bytes + e.optimizer_bytes + e.batch_bytes
    );
    e.check_fits(e.total_bytes).unwrap();
    let err = e.check_fits(e.total_bytes - 1).unwrap_err().to_string();
    assert!(
        err.contains("batch_size") && err.contains("Nothing was changed"),
        "{err}"
    );
}

#[test]
fn a_large_cache_is_refused_with_fewer_blocks_or_examples_as_the_advice() {
    let run = trainer(config(Strategy::FeatureExtraction), separable(1000, 42));
    let e = run.memory_estimate();
    assert_eq!(e.cache_bytes, 4 * 2 * 3000 * 32);
    assert_eq!(e.batch_bytes, 4 * 16 * 32, "nothing trains in the backbone");
    let err = e.check_fits(e.cache_bytes).unwrap_err().to_string();
    assert!(
        err.contains("strategy")
            && err.contains("cache of 3000 examples' activations after block 3"),
        "{err}"
    );
}
