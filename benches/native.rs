//! Native benchmarks of the core on burn's `flex` CPU backend (the same jobs as the browser
//! benchmark where they apply). Prints medians; asserts nothing.
//!
//! cargo bench --bench native        (./build.sh bench runs it)

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use kindling::backbone::{Activations, Backbone, BackboneSpec};
use kindling::data::Dataset;
use kindling::rng::Rng;
use kindling::train::config::{HeadConfig, Strategy};
use kindling::train::{TrainConfig, Trainer};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn random_rows(n: usize, dim: usize, classes: usize, rng: &mut Rng) -> Dataset {
    let mut d = Dataset::new(dim);
    for i in 0..n {
        let row: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
        d.add(&row, &format!("c{}", i % classes)).unwrap();
    }
    d
}

/// Job 1: head training on cached 1280-d features, 2,000 examples, 10 classes, MLP 1280→256→10,
/// batch 64, 10 epochs.
fn head_training(device: &Device) -> f64 {
    let mut rng = Rng::new(1);
    let data = random_rows(2000, 1280, 10, &mut rng);
    let config = TrainConfig {
        head: HeadConfig {
            hidden: vec![256],
            ..HeadConfig::default()
        },
        batch_size: 64,
        epochs: 10,
        validation_fraction: 0.05,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let backbone =
        Backbone::build(&BackboneSpec::Features { dim: 1280 }, &mut rng, device).unwrap();
    let mut t = Trainer::new(config, backbone, data, None, device).unwrap();
    let start = Instant::now();
    pollster::block_on(t.fit()).unwrap();
    start.elapsed().as_secs_f64()
}

/// Job 2: MobileNetV2 feature extraction, 224×224, batch 16 (images/s).
fn feature_extraction(net: &Backbone, device: &Device, runs: usize) -> f64 {
    let x = vec![0.1f32; 16 * 3 * 224 * 224];
    let times: Vec<f64> = (0..runs)
        .map(|_| {
            let input = Activations::Spatial(Tensor::from_data(
                TensorData::new(x.clone(), [16, 3, 224, 224]),
                device,
            ));
            let start = Instant::now();
            let f = net
                .forward_blocks(input, 0..net.num_blocks(), false)
                .into_features();
            let _ = f.into_data();
            start.elapsed().as_secs_f64()
        })
        .collect();
    16.0 / median(times)
}

/// Job 3: fine-tuning steps with the last 2 blocks and the head trainable, batch 16 (ms/step,
/// activations of the frozen prefix cached as kindling does).
fn fine_tune_step(device: &Device) -> f64 {
    let mut rng = Rng::new(3);
    let data = random_rows(64, 3 * 224 * 224, 4, &mut rng);
    let backbone = Backbone::build(&BackboneSpec::MobilenetV2, &mut rng, device).unwrap();
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 2,
        },
        batch_size: 16,
        epochs: 3,
        validation_fraction: 0.25,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(config, backbone, data, None, device).unwrap();
    pollster::block_on(t.run_epoch()).unwrap(); // the first epoch also fills the cache
    let reports: Vec<f64> = (0..2)
        .map(|_| pollster::block_on(t.run_epoch()).unwrap().step_ms)
        .collect();
    median(reports)
}

fn main() {
    let device = Device::flex();
    let ad = device.clone().autodiff();
    println!(
        "kindling native benchmarks (burn flex CPU, {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let secs = head_training(&ad);
    println!(
        "job 1  head training 2000x1280 -> 256 -> 10, batch 64, 10 epochs: {:.2} s ({:.0} examples/s)",
        secs,
        2000.0 * 0.95 * 10.0 / secs
    );
    let net = Backbone::build(&BackboneSpec::MobilenetV2, &mut Rng::new(2), &device).unwrap();
    println!(
        "job 2  MobileNetV2 features 224x224, batch 16: {:.1} images/s",
        feature_extraction(&net, &device, 5)
    );
    println!(
        "job 3  fine-tune step (last 2 blocks + head, cached prefix), batch 16: {:.1} ms/step",
        fine_tune_step(&ad)
    );
}
