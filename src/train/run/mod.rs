//! One training run: fits a [`Classifier`] on a [`Dataset`] one batch per call, so a browser can
//! await each step and stay responsive. Values are read back once per epoch, in one transaction.
//!
//! A run moves through [`Phase`]s: between epochs → inside an epoch (batches) → between epochs …
//! → finished, with a [`StopReason`]. The files beside this one each add one part: a batch's
//! pass and the optimiser step (`batch`, in shards on several threads: `shards`), the end of an
//! epoch (`epoch_end`), validation (`evaluation`), the frozen prefix's cache (`frozen_prefix`,
//! natively also in a file: `mapped_cache`), the solved head (`convex`, and `probe` before
//! fine-tuning), contrastive fine-tuning (`contrastive`) and checkpoints (`checkpointing`).

mod batch;
mod cache_file;
mod checkpointing;
mod contrastive;
mod convex;
mod epoch_end;
mod epoch_start;
mod evaluation;
mod frozen_prefix;
mod kept;
#[cfg(not(target_arch = "wasm32"))]
mod mapped_cache;
mod memory;
mod probe;
mod shards;
mod state;
mod supplied_inputs;

use convex::ConvexFit;
pub use frozen_prefix::host_features;
use frozen_prefix::{ActivationCache, CpuPlanCache};
pub use memory::{MemoryEstimate, TAB_BUDGET_BYTES};
pub use state::StopReason;
use state::{BestTracker, Phase};
pub use supplied_inputs::InputRequest;
use supplied_inputs::SuppliedRows;

use std::collections::HashMap;

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::optimizer::Optimizer;
use super::report::EpochReport;
use super::schedule::{LrSchedule, block_lr_factor};
use crate::backbone::Backbone;
use crate::config::{Balance, TrainConfig};
use crate::data::{Augmenter, Dataset, Split, stratified_split};
use crate::error::{Error, Result};
use crate::model::{Classifier, Head, ParamOwner, Prediction, predict};
use crate::rng::Rng;

/// A training run in progress.
pub struct TrainingRun {
    // What the run trains, on what, and how.
    config: TrainConfig,
    device: Device,
    model: Classifier,
    data: Dataset,
    split: Split,
    labels: Tensor<1, Int>,
    class_weights: Option<Tensor<1>>,
    /// L2-SP: the pretrained values of the backbone's parameters.
    anchors: HashMap<String, Tensor<1>>,
    augmenter: Option<Box<dyn Augmenter>>,
    // Optimisation state.
    optimizer: Optimizer,
    schedule: LrSchedule,
    optimizer_steps: usize,
    rng: Rng,
    /// How many of the backbone's last blocks train now (gradual unfreezing raises it).
    trainable: usize,
    /// What temperature scaling did when the run ended.
    calibration: Option<crate::train::calibration::Calibration>,
    /// The convex fit's solver state, once it has started (`head_fit`).
    convex: Option<ConvexFit>,
    // Caches of the frozen prefix.
    cache: Option<ActivationCache>,
    cpu_plan: Option<CpuPlanCache>,
    /// Natively, the folder whose memory-mapped file holds the host plan's cache (`None`: memory).
    disk_cache: Option<std::path::PathBuf>,
    /// Other devices that run shards of each fine-tuning batch (`train_on_more_devices`).
    more_devices: Vec<Device>,
    /// Batches that ran spread over `more_devices`.
    batches_spread: usize,
    /// Chunks of the cache this run computed itself (an adopted cache adds none).
    cache_chunks_computed: usize,
    /// Rows handed over for the next step, when the data set keeps its rows elsewhere.
    supplied: Option<SuppliedRows>,
    // Progress.
    phase: Phase,
    /// The next epoch to start (= epochs completed).
    epoch: usize,
    elapsed: f64,
    history: Vec<EpochReport>,
    /// The first epoch's training loss: divergence is judged against it.
    first_loss: Option<f64>,
    /// The weights after the last epoch that did not diverge.
    last_good: Classifier,
    best: BestTracker,
}

/// The device a run of `config` trains on: `device` with autodiff, and with burn's gradient
/// checkpointing when `config` asks for it. Load the run's backbone on this device: tensors of
/// different checkpointing strategies cannot meet in one operation.
pub fn training_device(device: &Device, config: &TrainConfig) -> Device {
    let autodiff = device.clone().without_autodiff().autodiff();
    match config.gradient_checkpointing {
        true => autodiff.gradient_checkpointing(),
        false => autodiff,
    }
}

fn index_tensor(indices: &[usize], device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(data, [indices.len()]), device)
}

fn read_error(e: impl core::fmt::Debug) -> Error {
    Error::device("reading results back from the device failed", e)
}

impl TrainingRun {
    /// Prepares a run: checks the config and data, splits (or uses `split`), builds the head.
    /// `device` must be [`training_device`]`(…, &config)`, and `backbone` loaded on it.
    pub fn new(
        config: TrainConfig,
        backbone: Backbone,
        data: Dataset,
        split: Option<Split>,
        device: &Device,
    ) -> Result<Self> {
        let num_blocks = backbone.num_blocks();
        config.validate(num_blocks)?;
        let every_layer = config
            .text_features
            .every_layer(&config.strategy, &data.class_counts());
        let backbone = backbone.with_every_layer(every_layer);
        let expected = training_device(device, &config).gradient_checkpointing_strategy();
        if device.gradient_checkpointing_strategy() != expected {
            return Err(Error::State(format!(
                "internal: a run with gradient_checkpointing {} needs its device (and backbone) from train::training_device",
                config.gradient_checkpointing
            )));
        }
        data.check_trainable()?;
        if data.dim() != backbone.input_dim() {
            return Err(Error::Data(format!(
                "examples have {} values each but the backbone expects {}",
                data.dim(),
                backbone.input_dim()
            )));
        }
        let mut rng = Rng::new(config.seed);
        // Drawn whether or not a split is given, so a run on a given split initialises its head
        // as the run that drew that split would (a sweep's entry equals the run alone).
        let mut split_rng = rng.fork(1);
        let split = match split {
            Some(s) => {
                if let Some(&bad) = s
                    .train
                    .iter()
                    .chain(&s.validation)
                    .find(|&&i| i >= data.len())
                {
                    return Err(Error::Data(format!(
                        "the given split names example {bad}, but there are only {}",
                        data.len()
                    )));
                }
                s
            }
            None => stratified_split(
                data.labels(),
                data.num_classes(),
                config.validation_fraction,
                &mut split_rng,
            ),
        };
        if split.validation.is_empty() || split.train.is_empty() {
            return Err(Error::Data(
                "no examples left for validation or training: give every class at least 2 examples"
                    .into(),
            ));
        }
        let head = Head::new(
            &config.head,
            backbone.feature_dim(),
            data.num_classes(),
            &mut rng.fork(2),
            device,
        );
        let model = Classifier { backbone, head };
        let anchors = if config.l2sp > 0.0 {
            model
                .flat_params()
                .into_iter()
                .filter(|(p, _)| ParamOwner::of(&format!("{p}.")) != ParamOwner::Head)
                .map(|(p, t)| (p, t.inner().detach()))
                .collect()
        } else {
            HashMap::new()
        };
        let labels = index_tensor(data.labels(), device);
        let class_weights = (config.balance == Balance::WeightedLoss).then(|| {
            let counts = data.class_counts();
            let n: usize = counts.iter().sum();
            let k = counts.len() as f32;
            let w: Vec<f32> = counts
                .iter()
                .map(|&c| n as f32 / (k * c.max(1) as f32))
                .collect();
            Tensor::from_data(TensorData::new(w, [counts.len()]), device)
        });
        let batches = split
            .train
            .len()
            .div_ceil(contrastive::anchors_per_batch(&config));
        let schedule = LrSchedule::new(&config, batches.div_ceil(config.accumulation_steps));
        let trainable = config.trainable_blocks(0, num_blocks);
        let model = model.with_trainable_blocks(trainable);
        Ok(Self {
            optimizer: Optimizer::new(&config),
            schedule,
            device: device.clone(),
            last_good: model.clone(),
            model,
            data,
            split,
            labels,
            class_weights,
            anchors,
            augmenter: None,
            optimizer_steps: 0,
            rng: rng.fork(3),
            trainable,
            convex: None,
            calibration: None,
            cache: None,
            cpu_plan: None,
            disk_cache: None,
            more_devices: Vec::new(),
            batches_spread: 0,
            cache_chunks_computed: 0,
            supplied: None,
            phase: Phase::BetweenEpochs,
            epoch: 0,
            elapsed: 0.0,
            history: Vec::new(),
            first_loss: None,
            best: BestTracker::default(),
            config,
        })
    }

    /// Sets (or clears) the augmentation used for training batches.
    pub fn set_augmenter(&mut self, augmenter: Option<Box<dyn Augmenter>>) {
        self.augmenter = augmenter;
    }

    /// Keeps the cache of the frozen part's activations that is computed from now on in a
    /// memory-mapped file in `dir` instead of memory (native only), for a data set whose cache
    /// outgrows memory. It applies where the host-memory plan computes the cache: the frozen
    /// blocks of a ConvNet, and a wholly frozen MiniLM, on the CPU device.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn keep_cache_on_disk(&mut self, dir: std::path::PathBuf) {
        self.disk_cache = Some(dir);
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    pub fn model(&self) -> &Classifier {
        &self.model
    }
    /// The (autodiff) device the run trains on.
    pub fn device(&self) -> &Device {
        &self.device
    }
    pub fn split(&self) -> &Split {
        &self.split
    }
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished(_))
    }
    /// Why the run ended, once it has.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        match &self.phase {
            Phase::Finished(reason) => Some(reason),
            _ => None,
        }
    }
    pub fn classes(&self) -> &[String] {
        self.data.classes()
    }

    fn lr_of(&self, owner: ParamOwner) -> f64 {
        let lr = self.schedule.head_lr(self.optimizer_steps);
        match owner {
            ParamOwner::Head => lr,
            ParamOwner::Block(i) => {
                lr * block_lr_factor(&self.config, i, self.model.backbone.num_blocks())
            }
            ParamOwner::BackboneOther => 0.0,
        }
    }

    /// Runs one training batch — or, while the frozen prefix's activations are being cached, one
    /// chunk of that cache (see [`TrainingRun::caching_progress`]). Returns the epoch's report
    /// when this call ended an epoch.
    pub async fn step(&mut self) -> Result<Option<EpochReport>> {
        if let Some(request) = self.input_request() {
            return Err(Error::State(format!(
                "the next step needs the inputs of {} examples starting at example {}: supply them first",
                request.indices.len(),
                request.indices.first().copied().unwrap_or(0)
            )));
        }
        let mut epoch = match std::mem::replace(&mut self.phase, Phase::BetweenEpochs) {
            Phase::Finished(reason) => {
                self.phase = Phase::Finished(reason);
                return Err(Error::State(
                    "training has finished; start a new run to train again".into(),
                ));
            }
            Phase::BetweenEpochs => {
                self.apply_unfreezing();
                if self.prepare_step()? {
                    return Ok(None);
                }
                if self.fits_convex()? {
                    return self.convex_epoch().await.map(Some);
                }
                if self.probes_now()? {
                    return self.probe_epoch().await.map(Some);
                }
                self.start_epoch()
            }
            Phase::InEpoch(epoch) => epoch,
        };
        let batch = epoch.next_batch();
        let pass = match self.fine_tunes_contrastively() {
            true => self.pair_pass(&batch),
            false => self.forward_backward(&batch),
        };
        let (loss, correct) = match pass {
            Ok(sums) => sums,
            Err(e) => {
                // Nothing of the batch ran: it stays next.
                self.phase = Phase::InEpoch(epoch.rewound());
                return Err(e);
            }
        };
        epoch.totals.add(loss, correct, batch.len());
        if self.optimizer.pending_batches() >= self.config.accumulation_steps || epoch.is_done() {
            self.apply_gradients();
        }
        if !epoch.is_done() {
            self.phase = Phase::InEpoch(epoch);
            return Ok(None);
        }
        match self.fine_tunes_contrastively() {
            true => self.end_contrastive_epoch(epoch).await.map(Some),
            false => self.end_epoch(epoch).await.map(Some),
        }
    }

    /// Runs batches until the current epoch ends.
    pub async fn run_epoch(&mut self) -> Result<EpochReport> {
        loop {
            if let Some(report) = self.step().await? {
                return Ok(report);
            }
        }
    }

    /// Trains until the last epoch or an early stop; returns every epoch's report.
    pub async fn fit(&mut self) -> Result<Vec<EpochReport>> {
        while !self.is_finished() {
            self.run_epoch().await?;
        }
        Ok(self.history.clone())
    }

    /// Class probabilities (top k) for `rows`, flat examples of the data set's size.
    pub async fn predict(&self, rows: &[f32], top_k: usize) -> Result<Vec<Prediction>> {
        predict(&self.model, rows, top_k, &self.device).await
    }
}
