//! Shared helpers for the native engine tests: separable synthetic data and a CPU device.
#![allow(dead_code)]

#[cfg(not(target_arch = "wasm32"))]
pub mod real;

use burn::tensor::Device;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::config::{HeadConfig, Strategy, TrainConfig};
use kindling::data::Dataset;
use kindling::rng::Rng;
use kindling::train::{EpochReport, TrainingRun};

pub const DIM: usize = 16;
pub const CLASSES: usize = 3;

/// `per_class` examples per class around well-separated random centres.
pub fn separable(per_class: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let centres: Vec<Vec<f32>> = (0..CLASSES)
        .map(|_| (0..DIM).map(|_| rng.normal() * 2.0).collect())
        .collect();
    let mut d = Dataset::new(DIM);
    for i in 0..per_class * CLASSES {
        let c = i % CLASSES;
        let row: Vec<f32> = centres[c].iter().map(|&m| m + rng.normal() * 0.3).collect();
        d.add(&row, &format!("class{c}")).unwrap();
    }
    d
}

/// Overlapping classes (no separating plane), so the L2 term is what bounds the optimum.
pub fn overlapping(per_class: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut d = Dataset::new(DIM);
    for i in 0..per_class * CLASSES {
        let c = i % CLASSES;
        let row: Vec<f32> = (0..DIM)
            .map(|j| if j == c { 1.0 } else { 0.0 } + rng.normal() * 1.5)
            .collect();
        d.add(&row, &format!("class{c}")).unwrap();
    }
    d
}

/// Gradual unfreezing of a block per epoch over 4 epochs under a 16-unit head with dropout: the
/// frozen prefix shrinks every epoch (so its cache is refilled each time) and the run draws
/// random numbers (so restoring it exactly is tested).
pub fn gradual_config() -> TrainConfig {
    TrainConfig {
        strategy: Strategy::Gradual {
            every_epochs: 1,
            max_blocks: None,
        },
        head: HeadConfig {
            hidden: vec![16],
            dropout: 0.1,
            ..HeadConfig::default()
        },
        epochs: 4,
        batch_size: 16,
        learning_rate: 1e-2,
        early_stopping: None,
        ..TrainConfig::default()
    }
}

/// Adds small noise to the stored rows: a stand-in modality for the augmentation hook.
pub struct Jitter(pub Dataset);

impl kindling::data::Augmenter for Jitter {
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32> {
        self.0
            .row(index)
            .iter()
            .map(|v| v + 0.1 * rng.normal())
            .collect()
    }

    fn settings(&self) -> String {
        "jitter 0.1".into()
    }
}

pub fn device() -> Device {
    Device::flex().autodiff()
}

pub fn toy_backbone(device: &Device) -> Backbone {
    let spec = BackboneSpec::ToyMlp {
        widths: vec![DIM, 32, 32, 32],
    };
    Backbone::build(&spec, &mut Rng::new(5), device).unwrap()
}

pub fn trainer(config: TrainConfig, data: Dataset) -> TrainingRun {
    let device = device();
    TrainingRun::new(config, toy_backbone(&device), data, None, &device).unwrap()
}

pub fn fit(t: &mut TrainingRun) -> Vec<EpochReport> {
    pollster::block_on(t.fit()).unwrap()
}

/// Every parameter's values by path, read back to the host.
pub fn params(t: &TrainingRun) -> Vec<(String, Vec<f32>)> {
    params_of(t.model())
}

/// Every parameter's values of `model` by path, read back to the host.
pub fn params_of(model: &kindling::model::Classifier) -> Vec<(String, Vec<f32>)> {
    model
        .flat_params()
        .into_iter()
        .map(|(p, v)| (p, v.into_data().try_into_vec_as::<f32>().unwrap()))
        .collect()
}
