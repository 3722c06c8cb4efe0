#![cfg(not(target_arch = "wasm32"))]
//! The thread count changes the speed, never the result (issue 15): the same fine-tune of
//! MobileNetV2 (its last two blocks and a head, on real Fashion-MNIST images) run in a rayon pool
//! of one thread and of two gives the same predictions within 1e-5 and the same metrics. Every
//! parallel loop of the CPU device runs in the pool it is called from — burn flex's matrix
//! products, convolutions and reductions and the CPU plan's per-image loop — so this is the
//! browser's threaded build in miniature (there the pool is wasm-bindgen-rayon's Web Workers).

mod common;

use burn::tensor::Device;
use common::real::{fashion_for_mobilenet, mobilenet};
use kindling::config::{Strategy, TrainConfig};
use kindling::device::cpu_description;
use kindling::train::{Evaluation, TrainingRun};

struct Outcome {
    description: String,
    probabilities: Vec<f32>,
    evaluation: Evaluation,
}

fn fine_tune_with(threads: usize) -> Outcome {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let device = Device::flex().autodiff();
        let (data, rows) = fashion_for_mobilenet(&[0, 1, 8], 16);
        let config = TrainConfig {
            strategy: Strategy::Partial {
                trainable_blocks: 2,
            },
            epochs: 2,
            batch_size: 16,
            learning_rate: 1e-3,
            validation_fraction: 0.25,
            early_stopping: None,
            ..TrainConfig::default()
        };
        let mut run = TrainingRun::new(config, mobilenet(&device), data, None, &device).unwrap();
        pollster::block_on(run.fit()).unwrap();
        let evaluation = pollster::block_on(run.evaluate()).unwrap();
        let probabilities = pollster::block_on(run.predict(&rows, 3))
            .unwrap()
            .into_iter()
            .flat_map(|p| p.probabilities)
            .collect();
        Outcome {
            description: cpu_description(),
            probabilities,
            evaluation,
        }
    })
}

#[test]
fn one_and_two_threads_give_the_same_model() {
    let one = fine_tune_with(1);
    let two = fine_tune_with(2);
    assert_eq!(one.description, "CPU, 1 thread");
    assert_eq!(two.description, "CPU, 2 threads");

    assert_eq!(one.probabilities.len(), two.probabilities.len());
    let worst = one
        .probabilities
        .iter()
        .zip(&two.probabilities)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= 1e-5,
        "predictions differ by up to {worst} between 1 and 2 threads"
    );
    // The same metrics: accuracy, per-class precision/recall/F1 and the confusion matrix.
    assert_eq!(one.evaluation.report, two.evaluation.report);
    assert_eq!(one.evaluation.top_k_accuracy, two.evaluation.top_k_accuracy);
    assert!((one.evaluation.loss - two.evaluation.loss).abs() <= 1e-5);
    // Not a vacuous comparison: the model learned something (chance is 1/3; two short epochs on
    // 12 training images per class reached 0.67 here).
    assert!(
        one.evaluation.report.accuracy >= 0.6,
        "{:?}",
        one.evaluation.report
    );
}
