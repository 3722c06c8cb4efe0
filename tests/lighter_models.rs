#![cfg(not(target_arch = "wasm32"))]
//! Lighter model files: a fine-tuned MobileNetV2 exported with f16 weights is half the file and
//! predicts within a stated tolerance of the f32 file.

mod common;

use burn::tensor::Device;
use common::real::{fashion_for_mobilenet, mobilenet, weights_path};
use kindling::backbone::BackboneSpec;
use kindling::config::{Strategy, TrainConfig};
use kindling::model::file::{ModelInfo, export_as, import};
use kindling::model::param_file::Precision;
use kindling::model::predict;
use kindling::train::TrainingRun;

/// The largest difference of a class probability the f16 file may make (README: Lighter models).
const F16_TOLERANCE: f32 = 5e-3;

#[test]
fn an_f16_model_file_is_half_the_size_and_predicts_within_tolerance() {
    let device = Device::flex().autodiff();
    let (data, rows) = fashion_for_mobilenet(&[0, 1, 8], 12);
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 1,
        },
        epochs: 2,
        learning_rate: 1e-3,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut run = TrainingRun::new(
        config.clone(),
        mobilenet(&device),
        data.clone(),
        None,
        &device,
    )
    .unwrap();
    pollster::block_on(run.fit()).unwrap();
    let pretrained = std::fs::read(weights_path("mobilenet_v2.safetensors")).unwrap();
    let info = ModelInfo::new(
        BackboneSpec::MobilenetV2,
        Some(&pretrained),
        data.classes().to_vec(),
        config,
    );
    let f32_file = pollster::block_on(export_as(run.kept_model(), &info, Precision::F32)).unwrap();
    let f16_file = pollster::block_on(export_as(run.kept_model(), &info, Precision::F16)).unwrap();
    let ratio = f16_file.len() as f64 / f32_file.len() as f64;
    assert!(
        (0.49..0.51).contains(&ratio),
        "f16 {} vs f32 {} bytes",
        f16_file.len(),
        f32_file.len()
    );

    let load = |bytes: &[u8]| {
        import(
            bytes,
            Some(&BackboneSpec::MobilenetV2),
            Some(&pretrained),
            &device,
        )
        .unwrap()
        .0
    };
    let (full, half) = (load(&f32_file), load(&f16_file));
    let classes = data.num_classes();
    let a = pollster::block_on(predict(&full, &rows, classes, &device)).unwrap();
    let b = pollster::block_on(predict(&half, &rows, classes, &device)).unwrap();
    let mut largest = 0.0f32;
    for (x, y) in a.iter().zip(&b) {
        for (class, p) in x.classes.iter().zip(&x.probabilities) {
            let q = y
                .classes
                .iter()
                .position(|c| c == class)
                .map(|i| y.probabilities[i])
                .unwrap();
            largest = largest.max((p - q).abs());
        }
    }
    println!(
        "f16 file: {:.2} of the f32 file's {} bytes; largest probability difference {largest:.2e} over {} images",
        ratio,
        f32_file.len(),
        a.len()
    );
    assert!(
        largest < F16_TOLERANCE,
        "largest probability difference {largest}"
    );
    let same_top = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.classes[0] == y.classes[0])
        .count();
    assert_eq!(same_top, a.len(), "the f16 file changes a top class");
}
