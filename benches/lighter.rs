//! Lighter models, natively on burn's flex CPU backend: the peak memory and step time of
//! MobileNetV2 fine-tuning with and without burn's gradient checkpointing, and the f16 model
//! file's size and prediction difference against the f32 file. Prints the figures; asserts
//! nothing.
//!
//! cargo bench --bench lighter --profile dev        (./build.sh bench runs it)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::tensor::Device;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::config::{Strategy, TrainConfig};
use kindling::data::Dataset;
use kindling::model::file::{ModelInfo, export_as, import};
use kindling::model::param_file::Precision;
use kindling::model::predict;
use kindling::rng::Rng;
use kindling::train::{TrainingRun, training_device};
use web_time::Instant;

/// The system allocator, counting the bytes in use and their peak: the memory a step takes is
/// the peak during it above what was in use before.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BATCH: usize = 16;

fn random_images(n: usize, rng: &mut Rng) -> kindling::Result<Dataset> {
    let dim = 3 * 224 * 224;
    let mut d = Dataset::new(dim);
    for i in 0..n {
        let row: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
        d.add(&row, &format!("c{}", i % 4))?;
    }
    Ok(d)
}

/// Peak bytes above the level before, and milliseconds, of one epoch of one training step of 16
/// images (plus a validation pass of 4), after a first epoch that warms up.
fn fine_tune_memory(strategy: Strategy, checkpointing: bool) -> kindling::Result<(usize, f64)> {
    let config = TrainConfig {
        strategy,
        batch_size: BATCH,
        epochs: 2,
        validation_fraction: 4.0 / 20.0,
        early_stopping: None,
        gradient_checkpointing: checkpointing,
        ..TrainConfig::default()
    };
    let device = training_device(&Device::flex(), &config);
    let mut rng = Rng::new(3);
    let data = random_images(20, &mut rng)?;
    let backbone = Backbone::build(&BackboneSpec::MobilenetV2, &mut rng, &device)?;
    let mut run = TrainingRun::new(config, backbone, data, None, &device)?;
    pollster::block_on(run.run_epoch())?;
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    pollster::block_on(run.run_epoch())?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Ok((PEAK.load(Ordering::Relaxed).saturating_sub(before), ms))
}

/// The f16 file's size and the largest class-probability difference from the f32 file, on the
/// pretrained MobileNetV2 with a head trained for one epoch, over 16 random images.
fn f16_export(weights: &[u8]) -> kindling::Result<(usize, usize, f32)> {
    let device = Device::flex().autodiff();
    let mut rng = Rng::new(4);
    let data = random_images(24, &mut rng)?;
    let config = TrainConfig {
        epochs: 1,
        batch_size: BATCH,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let backbone = Backbone::load(&BackboneSpec::MobilenetV2, weights, &device)?;
    let mut run = TrainingRun::new(config.clone(), backbone, data.clone(), None, &device)?;
    pollster::block_on(run.fit())?;
    let info = ModelInfo::new(
        BackboneSpec::MobilenetV2,
        Some(weights),
        data.classes().to_vec(),
        config,
    );
    let full = pollster::block_on(export_as(run.kept_model(), &info, Precision::F32))?;
    let half = pollster::block_on(export_as(run.kept_model(), &info, Precision::F16))?;
    let rows = data.gather(&(0..16).collect::<Vec<_>>())?;
    let predictions = |bytes: &[u8]| -> kindling::Result<Vec<kindling::model::Prediction>> {
        let (model, _) = import(
            bytes,
            Some(&BackboneSpec::MobilenetV2),
            Some(weights),
            &device,
        )?;
        pollster::block_on(predict(&model, &rows, 4, &device))
    };
    let (a, b) = (predictions(&full)?, predictions(&half)?);
    let mut largest = 0.0f32;
    for (x, y) in a.iter().zip(&b) {
        for (class, p) in x.classes.iter().zip(&x.probabilities) {
            if let Some(i) = y.classes.iter().position(|c| c == class) {
                largest = largest.max((p - y.probabilities[i]).abs());
            }
        }
    }
    Ok((full.len(), half.len(), largest))
}

fn main() -> kindling::Result<()> {
    println!("kindling lighter models (burn flex CPU, batch {BATCH}, 224x224)");
    let mb = |bytes: usize| bytes as f64 / 1e6;
    for (name, strategy) in [
        ("full fine-tune", Strategy::Full),
        (
            "last 3 blocks",
            Strategy::Partial {
                trainable_blocks: 3,
            },
        ),
    ] {
        let (plain, plain_ms) = fine_tune_memory(strategy.clone(), false)?;
        let (saved, saved_ms) = fine_tune_memory(strategy, true)?;
        println!(
            "checkpointing {name}: peak {:.0} MB without, {:.0} MB with gradient checkpointing ({:.2}x memory, {:.2}x step time: {:.0} vs {:.0} ms)",
            mb(plain),
            mb(saved),
            saved as f64 / plain.max(1) as f64,
            saved_ms / plain_ms,
            saved_ms,
            plain_ms
        );
    }
    let path = std::env::var_os("KINDLING_WEIGHTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kindling/weights")
        })
        .join("mobilenet_v2.safetensors");
    match std::fs::read(&path) {
        Ok(weights) => {
            let (full, half, largest) = f16_export(&weights)?;
            println!(
                "f16 export MobileNetV2: {:.1} MB vs {:.1} MB f32 ({:.2}x), largest probability difference {largest:.1e}",
                mb(half),
                mb(full),
                half as f64 / full as f64
            );
        }
        Err(e) => println!(
            "f16 export: skipped ({}: {e}; ./build.sh setup fetches the weights)",
            path.display()
        ),
    }
    Ok(())
}
