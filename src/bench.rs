//! The benchmark jobs, shared by the native bench (`benches/native.rs`) and the browser bench
//! (`benchmark()` in `web/bench.rs`, run beside TF.js by `benches/browser/`). Each job times
//! work that ends in a read-back, so asynchronous GPU queues are included, and returns a
//! throughput (higher is better) plus the latency of its first run (shader compilation, caches).

use burn::tensor::Device;
use serde::Serialize;
use web_time::Instant;

use crate::backbone::{Backbone, BackboneSpec};
use crate::config::TrainConfig;
use crate::config::{HeadConfig, Strategy};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::train::TrainingRun;

/// One job's figures.
#[derive(Clone, Debug, Serialize)]
pub struct JobResult {
    pub job: String,
    /// Throughput, higher is better, in `unit`.
    pub value: f64,
    pub unit: &'static str,
    /// The first run (compiles shaders, fills caches), in milliseconds.
    pub first_ms: f64,
    /// Work timed apart before the first run because the peer's job does not do it (the fine-tune
    /// job's cache of the frozen prefix: TF.js's side starts from random activations), in
    /// milliseconds; absent for the other jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_ms: Option<f64>,
    /// Every timed run after the first, in milliseconds (`value` comes from their median).
    pub runs_ms: Vec<f64>,
    /// Training steps (head, fine-tune) or batches the timed runs did: what the browser bench
    /// divides the GPU work counted from `TimedStart` by.
    pub timed_steps: usize,
}

/// Called once by a job just before its timed runs begin (after the cold first one), so that a
/// caller can count what the timed runs alone ask of the device (the browser bench's GPU
/// counters); the native bench passes one that does nothing.
pub type TimedStart<'a> = &'a mut dyn FnMut();

impl JobResult {
    /// A job's figures from the milliseconds of its runs, the first (cold) one first.
    fn from_runs(
        job: &str,
        value: f64,
        unit: &'static str,
        times_ms: &[f64],
        timed_steps: usize,
    ) -> Self {
        Self {
            job: job.into(),
            value,
            unit,
            first_ms: times_ms.first().copied().unwrap_or(f64::NAN),
            setup_ms: None,
            timed_steps,
            runs_ms: times_ms.get(1..).unwrap_or_default().to_vec(),
        }
    }
}

pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn random_rows(n: usize, dim: usize, classes: usize, rng: &mut Rng) -> Result<Dataset> {
    let mut d = Dataset::new(dim);
    for i in 0..n {
        let row: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
        d.add(&row, &format!("c{}", i % classes))?;
    }
    Ok(d)
}

/// Job 1: head training on cached 1280-d features: 2,000 training examples (plus 5 % held out),
/// 10 classes, MLP 1280→256→10, batch 64, `epochs` epochs. Examples trained per second.
pub async fn head_training(
    device: &Device,
    epochs: usize,
    timed: TimedStart<'_>,
) -> Result<JobResult> {
    let mut rng = Rng::new(1);
    let data = random_rows(2106, 1280, 10, &mut rng)?;
    let config = TrainConfig {
        head: HeadConfig {
            hidden: vec![256],
            ..HeadConfig::default()
        },
        batch_size: 64,
        epochs,
        validation_fraction: 0.05,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let backbone = Backbone::build(&BackboneSpec::Features { dim: 1280 }, &mut rng, device)?;
    let mut t = TrainingRun::new(config, backbone, data, None, device)?;
    let trained = t.split().train.len() as f64;
    let mut epochs_ms = Vec::new();
    let start = Instant::now();
    while !t.is_finished() {
        if epochs_ms.len() == 1 {
            timed();
        }
        let epoch = Instant::now();
        t.run_epoch().await?;
        epochs_ms.push(ms_since(epoch));
    }
    let total = start.elapsed().as_secs_f64();
    Ok(JobResult::from_runs(
        "head",
        trained * epochs as f64 / total,
        "examples/s",
        &epochs_ms,
        epochs.saturating_sub(1) * t.split().train.len().div_ceil(64),
    ))
}

/// Job 2: MobileNetV2 (random weights: speed only) feature extraction, 224×224, `batch` images per
/// forward pass, read back. Images per second.
pub async fn feature_extraction(
    device: &Device,
    batch: usize,
    runs: usize,
    timed: TimedStart<'_>,
) -> Result<JobResult> {
    let net = Backbone::build(&BackboneSpec::MobilenetV2, &mut Rng::new(2), device)?;
    let rows = vec![0.1f32; batch * 3 * 224 * 224];
    forward_throughput(
        "features", "images/s", &net, &rows, batch, runs, device, true, timed,
    )
    .await
}

/// A MobileNetV2 run training the last 2 inverted-residual blocks, the final 1×1 conv (kindling
/// counts it as block 19 of 19, so 3 trainable blocks) and a linear head — the same trainable set
/// as the TF.js side of the browser benchmark — on `train` random images (4 classes, one batch
/// of 16 per step) with 4 held out for validation.
fn fine_tune_run(device: &Device, train: usize, epochs: usize) -> Result<TrainingRun> {
    let mut rng = Rng::new(3);
    let total = train + 4;
    let data = random_rows(total, 3 * 224 * 224, 4, &mut rng)?;
    let backbone = Backbone::build(&BackboneSpec::MobilenetV2, &mut rng, device)?;
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 3,
        },
        batch_size: 16,
        epochs,
        validation_fraction: 4.0 / total as f64,
        early_stopping: None,
        ..TrainConfig::default()
    };
    TrainingRun::new(config, backbone, data, None, device)
}

/// Job 3: fine-tuning steps with the last 2 inverted-residual blocks and the head trainable,
/// batch 16, on the cached activations of the frozen prefix (as kindling trains). Steps per
/// second over whole epochs of 3 steps (each epoch also validates 4 images and reads back).
/// `first_ms` is a fresh run's first epoch of one step (shader compilation, the step, the
/// validation) once its cache is filled; `setup_ms` is filling that cache, which TF.js's side of
/// the job does not do (it starts from random activations), so the first steps compare alike.
pub async fn fine_tune_step(
    device: &Device,
    runs: usize,
    timed: TimedStart<'_>,
) -> Result<JobResult> {
    let mut first = fine_tune_run(device, 16, 1)?;
    let start = Instant::now();
    first.fill_cache()?;
    if let Some((_, cache)) = first.complete_cache() {
        // The cache is queued work on a GPU device: a read-back makes it finish here.
        cache
            .into_features()
            .sum()
            .into_data_async()
            .await
            .map_err(|e| Error::device("reading the cache back failed", e))?;
    }
    let setup_ms = ms_since(start);
    let start = Instant::now();
    first.run_epoch().await?;
    let first_ms = ms_since(start);

    let mut t = fine_tune_run(device, 48, runs + 1)?;
    t.run_epoch().await?; // fills the cache of the frozen prefix
    let mut epochs_ms = Vec::new();
    timed();
    for _ in 0..runs {
        let start = Instant::now();
        t.run_epoch().await?;
        epochs_ms.push(ms_since(start));
    }
    let steps_per_epoch = t.split().train.len().div_ceil(16);
    let steps = steps_per_epoch as f64;
    let step_ms: Vec<f64> = epochs_ms.iter().map(|ms| ms / steps).collect();
    Ok(JobResult {
        job: "finetune".into(),
        value: 1e3 / median(&step_ms),
        unit: "steps/s",
        first_ms,
        setup_ms: Some(setup_ms),
        timed_steps: runs * steps_per_epoch,
        runs_ms: step_ms,
    })
}

/// Job 4: sentence embeddings with an encoder of MiniLM-L6's size (random weights: speed only),
/// `seq` tokens, `batch` sentences per pass, read back. Sentences per second. On the CPU device
/// the encoder runs on its host-memory plan (`cpu_encoder`) unless `host_plan` is false (burn
/// flex alone: the native benchmark's comparison).
pub async fn sentence_embedding(
    device: &Device,
    batch: usize,
    seq: usize,
    runs: usize,
    host_plan: bool,
    timed: TimedStart<'_>,
) -> Result<JobResult> {
    let spec = BackboneSpec::Bert {
        heads: 12,
        max_len: seq,
        normalize: true,
    };
    let net = Backbone::build(&spec, &mut Rng::new(4), device)?;
    let mut rng = Rng::new(5);
    // Each row: `seq` token ids, then `seq` mask values (all real tokens).
    let rows: Vec<f32> = (0..batch)
        .flat_map(|_| {
            let ids: Vec<f32> = (0..seq)
                .map(|_| (rng.below(29_000) + 1000) as f32)
                .collect();
            ids.into_iter()
                .chain(std::iter::repeat_n(1.0, seq))
                .collect::<Vec<_>>()
        })
        .collect();
    let job = if host_plan { "embed" } else { "embed_burn" };
    forward_throughput(
        job,
        "sentences/s",
        &net,
        &rows,
        batch,
        runs,
        device,
        host_plan,
        timed,
    )
    .await
}

/// Times `runs + 1` forward passes of `net` over `rows` (`batch` examples), each read back;
/// items per second from the median of all but the first, which is `first_ms`.
#[allow(clippy::too_many_arguments)]
async fn forward_throughput(
    job: &str,
    unit: &'static str,
    net: &Backbone,
    rows: &[f32],
    batch: usize,
    runs: usize,
    device: &Device,
    host_plan: bool,
    timed: TimedStart<'_>,
) -> Result<JobResult> {
    // As the trainer does for its frozen prefix: the host-memory plan on the CPU device, built
    // once (inside the first, cold, timing), else burn.
    let mut plan = None;
    let mut times = Vec::new();
    for run in 0..=runs {
        if run == 1 {
            timed();
        }
        let start = Instant::now();
        if run == 0 && host_plan {
            plan = net.cpu_plan(net.num_blocks(), device);
        }
        let outputs = match &plan {
            Some(plan) => plan.forward(rows, batch, device),
            None => {
                let input = net.input(rows.to_vec(), batch, device);
                net.forward_blocks(input, 0..net.num_blocks(), false)
            }
        };
        outputs
            .into_features()
            .into_data_async()
            .await
            .map_err(|e| Error::device("reading the outputs back failed", e))?;
        times.push(ms_since(start));
    }
    let value = batch as f64 * 1e3 / median(times.get(1..).unwrap_or_default());
    Ok(JobResult::from_runs(job, value, unit, &times, runs))
}

/// The head job's two large matrix products alone, on `device`: the forward pass's
/// `[64 × 1280] · [1280 × 256]`, or (`transposed`) the weight gradient's `xᵀ · dh`, a transposed
/// view `[1280 × 64]` times `[64 × 256]`. Each run adds up `PRODUCTS` of them and reads back the
/// sum, through the head's own product (`model::product`). GFLOP/s: the matrix product apart
/// from the rest of a training step (browser job 8).
pub async fn head_product(
    device: &Device,
    transposed: bool,
    runs: usize,
    timed: TimedStart<'_>,
) -> Result<JobResult> {
    use burn::tensor::{Tensor, TensorData};
    const PRODUCTS: usize = 8;
    let mut rng = Rng::new(6);
    let mut random = |rows: usize, cols: usize| {
        let values: Vec<f32> = (0..rows * cols).map(|_| rng.normal()).collect();
        Tensor::<2>::from_data(TensorData::new(values, [rows, cols]), device)
    };
    let x = random(64, 1280);
    let (lhs, rhs) = match transposed {
        true => (x.transpose(), random(64, 256)),
        false => (x, random(1280, 256)),
    };
    let mut times = Vec::new();
    for run in 0..=runs {
        if run == 1 {
            timed();
        }
        let start = Instant::now();
        let mut total: Option<Tensor<2>> = None;
        for _ in 0..PRODUCTS {
            let product = crate::model::product::matmul(lhs.clone(), rhs.clone());
            total = Some(match total {
                Some(t) => t + product,
                None => product,
            });
        }
        if let Some(total) = total {
            total
                .sum()
                .into_data_async()
                .await
                .map_err(|e| Error::device("reading the products back failed", e))?;
        }
        times.push(ms_since(start));
    }
    let flops = 2.0 * 64.0 * 1280.0 * 256.0 * PRODUCTS as f64;
    let job = if transposed {
        "product_tn"
    } else {
        "product_nn"
    };
    let value = flops / (median(times.get(1..).unwrap_or_default()) * 1e-3) / 1e9;
    Ok(JobResult::from_runs(job, value, "GFLOP/s", &times, runs))
}
