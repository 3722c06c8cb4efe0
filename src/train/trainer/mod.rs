//! The trainer: fits a [`Classifier`] on a [`Dataset`] one batch per call, so a browser can await
//! each step and stay responsive. Values are read back once per epoch, in one transaction.

mod checkpointing;
mod epoch_end;
mod evaluation;
mod frozen_prefix;
mod prediction;

use frozen_prefix::{ActivationCache, CpuPlanCache};
pub use prediction::{Predictor, predict};

use std::collections::HashMap;

use burn::tensor::{Device, Int, Tensor, TensorData};
use web_time::Instant;

use super::config::{Balance, TrainConfig};
use super::head::Head;
use super::loss::{cross_entropy_per_example, reduce};
use super::optimizer::Optimizer;
use super::report::{EpochReport, Prediction};
use super::schedule::{LrSchedule, block_lr_factor};
use crate::backbone::Backbone;
use crate::data::{Dataset, Split, stratified_split};
use crate::error::{Error, Result};
use crate::model::{Classifier, ParamOwner};
use crate::rng::Rng;

/// Produces freshly augmented inputs for training examples (the image and text modalities fill
/// it). While one is set, training batches run the frozen prefix on its output every step
/// instead of reading the activation cache; validation still sees the plain inputs.
pub trait Augmenter {
    /// The input row of example `index` for one training step.
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32>;
}

/// The best epoch so far, for early stopping and restoring.
struct Best {
    value: f64,
    epoch: usize,
    model: Classifier,
}

/// A training run in progress.
pub struct Trainer {
    config: TrainConfig,
    device: Device,
    model: Classifier,
    optimizer: Optimizer,
    schedule: LrSchedule,
    data: Dataset,
    split: Split,
    labels: Tensor<1, Int>,
    class_weights: Option<Tensor<1>>,
    anchors: HashMap<String, Tensor<1>>,
    cache: Option<ActivationCache>,
    cpu_plan: Option<CpuPlanCache>,
    rng: Rng,
    trainable: usize,
    epoch: usize,
    order: Vec<usize>,
    batch_in_epoch: usize,
    optimizer_steps: usize,
    loss_sum: Option<Tensor<1>>,
    correct: Option<Tensor<1, Int>>,
    seen: usize,
    epoch_started: Option<Instant>,
    elapsed: f64,
    first_loss: Option<f64>,
    best: Option<Best>,
    bad_epochs: usize,
    last_good: Classifier,
    history: Vec<EpochReport>,
    finished: bool,
    augmenter: Option<Box<dyn Augmenter>>,
}

fn index_tensor(indices: &[usize], device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(data, [indices.len()]), device)
}

fn read_error(e: impl core::fmt::Debug) -> Error {
    Error::device("reading results back from the device failed", e)
}

impl Trainer {
    /// Prepares a run: checks the config and data, splits (or uses `split`), builds the head.
    /// `device` must be an autodiff device (`Device::autodiff()`).
    pub fn new(
        config: TrainConfig,
        backbone: Backbone,
        data: Dataset,
        split: Option<Split>,
        device: &Device,
    ) -> Result<Self> {
        let num_blocks = backbone.num_blocks();
        config.validate(num_blocks)?;
        data.check_trainable()?;
        if data.dim() != backbone.input_dim() {
            return Err(Error::Data(format!(
                "examples have {} values each but the backbone expects {}",
                data.dim(),
                backbone.input_dim()
            )));
        }
        let mut rng = Rng::new(config.seed);
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
                &mut rng.fork(1),
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
        let batches = split.train.len().div_ceil(config.batch_size);
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
            cache: None,
            cpu_plan: None,
            rng: rng.fork(3),
            trainable,
            epoch: 0,
            order: Vec::new(),
            batch_in_epoch: 0,
            optimizer_steps: 0,
            loss_sum: None,
            correct: None,
            seen: 0,
            epoch_started: None,
            elapsed: 0.0,
            first_loss: None,
            best: None,
            bad_epochs: 0,
            history: Vec::new(),
            finished: false,
            augmenter: None,
            config,
        })
    }

    /// Sets (or clears) the augmentation used for training batches.
    pub fn set_augmenter(&mut self, augmenter: Option<Box<dyn Augmenter>>) {
        self.augmenter = augmenter;
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    pub fn model(&self) -> &Classifier {
        &self.model
    }
    pub fn split(&self) -> &Split {
        &self.split
    }
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }
    pub fn is_finished(&self) -> bool {
        self.finished
    }
    pub fn classes(&self) -> &[String] {
        self.data.classes()
    }
    /// The epoch whose weights are kept when training ends (early stopping restores it).
    pub fn best_epoch(&self) -> Option<usize> {
        self.best.as_ref().map(|b| b.epoch)
    }

    fn batches_per_epoch(&self) -> usize {
        self.split.train.len().div_ceil(self.config.batch_size)
    }

    fn start_epoch(&mut self) {
        let num_blocks = self.model.backbone.num_blocks();
        let trainable = self.config.trainable_blocks(self.epoch, num_blocks);
        if trainable != self.trainable {
            self.model = self.model.clone().with_trainable_blocks(trainable);
            self.trainable = trainable;
        }
        self.order = match self.config.balance {
            Balance::Sampling => {
                let mut per_class = vec![Vec::new(); self.data.num_classes()];
                for &i in &self.split.train {
                    per_class[self.data.labels()[i]].push(i);
                }
                per_class.retain(|c| !c.is_empty());
                (0..self.split.train.len())
                    .map(|_| {
                        let class = &per_class[self.rng.below(per_class.len())];
                        class[self.rng.below(class.len())]
                    })
                    .collect()
            }
            _ => {
                let mut order = self.split.train.clone();
                self.rng.shuffle(&mut order);
                order
            }
        };
        self.batch_in_epoch = 0;
        self.loss_sum = None;
        self.correct = None;
        self.seen = 0;
        self.epoch_started = Some(Instant::now());
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

    /// Runs one training batch. Returns the epoch's report when this batch ended an epoch.
    pub async fn step(&mut self) -> Result<Option<EpochReport>> {
        if self.finished {
            return Err(Error::State(
                "training has finished; start a new run to train again".into(),
            ));
        }
        if self.batch_in_epoch == 0 {
            self.start_epoch();
        }
        let bs = self.config.batch_size;
        let start = self.batch_in_epoch * bs;
        let batch: Vec<usize> = self.order[start..(start + bs).min(self.order.len())].to_vec();
        let idx = index_tensor(&batch, &self.device);
        let frozen = self.model.frozen_prefix(self.trainable);
        let x = match &self.augmenter {
            Some(aug) => {
                let rows: Vec<f32> = batch
                    .iter()
                    .flat_map(|&i| aug.augment(i, &mut self.rng))
                    .collect();
                self.frozen_forward(rows, batch.len(), frozen)
            }
            None => self.cached_activations().select(idx.clone()),
        };
        let y = self.labels.clone().select(0, idx);
        let masks = self
            .model
            .head
            .dropout_masks(batch.len(), &mut self.rng, &self.device);
        let logits = self.model.forward_from(x, frozen, masks.as_deref(), true);
        let per_example =
            cross_entropy_per_example(logits.clone(), y.clone(), self.config.label_smoothing);
        let weights = self
            .class_weights
            .as_ref()
            .map(|w| w.clone().select(0, y.clone()));
        let loss = reduce(per_example, weights);
        let grads = loss.backward();
        self.optimizer.accumulate(&self.model, &grads);

        let n = batch.len();
        let batch_loss = loss.detach() * n as f64;
        let batch_correct = logits.detach().argmax(1).reshape([n]).equal(y).int().sum();
        self.loss_sum = Some(match self.loss_sum.take() {
            Some(s) => s + batch_loss,
            None => batch_loss,
        });
        self.correct = Some(match self.correct.take() {
            Some(c) => c + batch_correct,
            None => batch_correct,
        });
        self.seen += n;
        self.batch_in_epoch += 1;

        let epoch_done = self.batch_in_epoch >= self.batches_per_epoch();
        if self.optimizer.pending_batches() >= self.config.accumulation_steps || epoch_done {
            let lr_by_owner: Vec<(ParamOwner, f64)> = (0..self.model.backbone.num_blocks())
                .map(|i| (ParamOwner::Block(i), self.lr_of(ParamOwner::Block(i))))
                .chain([(ParamOwner::Head, self.lr_of(ParamOwner::Head))])
                .collect();
            let lr_of = move |owner: ParamOwner| {
                lr_by_owner
                    .iter()
                    .find(|(o, _)| *o == owner)
                    .map_or(0.0, |(_, lr)| *lr)
            };
            let model = self.model.clone();
            self.model = self.optimizer.step(model, &lr_of, &self.anchors);
            self.optimizer_steps += 1;
        }
        if !epoch_done {
            return Ok(None);
        }
        self.batch_in_epoch = 0;
        self.end_epoch().await.map(Some)
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
        while !self.finished {
            self.run_epoch().await?;
        }
        Ok(self.history.clone())
    }

    /// Class probabilities (top k) for `rows`, flat examples of the data set's size.
    pub async fn predict(&self, rows: &[f32], top_k: usize) -> Result<Vec<Prediction>> {
        predict(&self.model, rows, top_k, &self.device).await
    }
}
