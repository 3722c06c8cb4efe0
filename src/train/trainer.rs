//! The trainer: fits a [`Classifier`] on a [`Dataset`] one batch per call, so a browser can await
//! each step and stay responsive. Values are read back once per epoch, in one transaction.

use std::collections::HashMap;

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};
use web_time::Instant;

use super::checkpoint::{self, CheckpointMeta};
use super::config::{Balance, Monitor, TrainConfig};
use super::head::Head;
use super::loss::{cross_entropy_per_example, reduce};
use super::metrics::{ClassificationReport, ConfusionMatrix, argmax_rows, top_k_accuracy};
use super::optimizer::Optimizer;
use super::report::{EpochReport, Evaluation, ExampleLoss, Prediction};
use super::schedule::{LrSchedule, block_lr_factor};
use crate::backbone::{Activations, Backbone};
use crate::data::{Dataset, Split, stratified_split};
use crate::error::{Error, Result};
use crate::model::{Classifier, ParamOwner};
use crate::rng::Rng;

/// Examples per forward pass when caching activations or evaluating.
const EVAL_CHUNK: usize = 256;

/// Produces freshly augmented inputs for training examples (the image and text modalities fill
/// it). While one is set, training batches run the frozen prefix on its output every step
/// instead of reading the activation cache; validation still sees the plain inputs.
pub trait Augmenter {
    /// The input row of example `index` for one training step.
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32>;
}

/// Backbone activations of every example after the frozen prefix, computed once while that
/// prefix stays frozen (nothing random runs before it).
struct ActivationCache {
    frozen_blocks: usize,
    all: Activations,
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

    /// Activations of every example after the frozen prefix, (re)computed when the prefix changed.
    fn cached_activations(&mut self) -> Activations {
        let frozen = self.model.frozen_prefix(self.trainable);
        if let Some(cache) = self.cache.as_ref().filter(|c| c.frozen_blocks == frozen) {
            return cache.all.clone();
        }
        let all: Vec<usize> = (0..self.data.len()).collect();
        let parts = all
            .chunks(EVAL_CHUNK)
            .map(|chunk| {
                let x =
                    self.model
                        .backbone
                        .input(self.data.gather(chunk), chunk.len(), &self.device);
                // Frozen blocks run in inference mode and record no gradients.
                self.model
                    .backbone
                    .forward_blocks(x, 0..frozen, false)
                    .detach()
            })
            .collect();
        let acts = Activations::cat(parts);
        self.cache = Some(ActivationCache {
            frozen_blocks: frozen,
            all: acts.clone(),
        });
        acts
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
                let x = self.model.backbone.input(rows, batch.len(), &self.device);
                self.model
                    .backbone
                    .forward_blocks(x, 0..frozen, false)
                    .detach()
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

    async fn end_epoch(&mut self) -> Result<EpochReport> {
        let (Some(loss_sum), Some(correct)) = (self.loss_sum.take(), self.correct.take()) else {
            return Err(Error::State("an epoch ended without any batch".into()));
        };
        let pass = self.validation_pass(Some((loss_sum, correct))).await?;
        let (train_loss_sum, train_correct) = pass.train.unwrap_or((f64::NAN, 0.0));
        let train_loss = train_loss_sum / self.seen as f64;
        let train_accuracy = train_correct / self.seen as f64;
        let eval = pass.evaluation;

        let epoch_seconds = self
            .epoch_started
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        self.elapsed += epoch_seconds;
        let epochs_left = self.config.epochs - self.epoch - 1;
        let mut report = EpochReport {
            epoch: self.epoch,
            epochs: self.config.epochs,
            train_loss,
            train_accuracy,
            val_loss: eval.loss,
            val_accuracy: eval.report.accuracy,
            val_macro_f1: eval.report.macro_f1,
            val_top_k_accuracy: eval.top_k_accuracy,
            learning_rate: self
                .schedule
                .head_lr(self.optimizer_steps.saturating_sub(1)),
            block_learning_rates: {
                let n = self.model.backbone.num_blocks();
                let head = self
                    .schedule
                    .head_lr(self.optimizer_steps.saturating_sub(1));
                (n - self.trainable..n)
                    .map(|b| head * block_lr_factor(&self.config, b, n))
                    .collect()
            },
            trainable_blocks: self.trainable,
            examples_per_second: self.seen as f64 / epoch_seconds.max(1e-9),
            step_ms: 1e3 * epoch_seconds / self.batches_per_epoch() as f64,
            epoch_seconds,
            elapsed_seconds: self.elapsed,
            eta_seconds: epoch_seconds * epochs_left as f64,
            stopped: None,
        };

        let first = *self.first_loss.get_or_insert(train_loss);
        let diverged = !train_loss.is_finite()
            || !eval.loss.is_finite()
            || train_loss > self.config.divergence_factor * first.max(1e-3);
        if diverged {
            self.model = self.last_good.clone();
            let kept = if self.epoch == 0 {
                "the initial weights".to_string()
            } else {
                format!("the weights of epoch {}", self.epoch)
            };
            report.stopped = Some(format!(
                "training diverged in epoch {} (training loss {train_loss:.4}, first epoch {first:.4}); kept {kept}. \
                 Try a learning rate 10× lower ({:.1e}) or gradient clipping.",
                self.epoch + 1,
                self.config.learning_rate / 10.0
            ));
            return Ok(self.finish_epoch(report, true));
        }
        self.last_good = self.model.clone();

        let (value, higher_is_better) = match self
            .config
            .early_stopping
            .as_ref()
            .map_or(Monitor::Loss, |e| e.monitor)
        {
            Monitor::Loss => (eval.loss, false),
            Monitor::Accuracy => (eval.report.accuracy, true),
            Monitor::MacroF1 => (eval.report.macro_f1, true),
        };
        let min_delta = self
            .config
            .early_stopping
            .as_ref()
            .map_or(0.0, |e| e.min_delta);
        let improved = self.best.as_ref().is_none_or(|b| {
            if higher_is_better {
                value > b.value + min_delta
            } else {
                value < b.value - min_delta
            }
        });
        if improved {
            self.best = Some(Best {
                value,
                epoch: self.epoch,
                model: self.model.clone(),
            });
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if let Some(es) = &self.config.early_stopping {
            if self.bad_epochs >= es.patience && epochs_left > 0 {
                let best_epoch = self.best.as_ref().map_or(0, |b| b.epoch);
                report.stopped = Some(format!(
                    "early stop: validation {:?} did not improve for {} epochs; kept the weights of epoch {}",
                    es.monitor,
                    es.patience,
                    best_epoch + 1
                ));
                return Ok(self.finish_epoch(report, true));
            }
        }
        Ok(self.finish_epoch(report, epochs_left == 0))
    }

    fn finish_epoch(&mut self, report: EpochReport, last: bool) -> EpochReport {
        self.history.push(report.clone());
        self.epoch += 1;
        if last {
            self.finished = true;
            if report.stopped.is_none()
                || report
                    .stopped
                    .as_deref()
                    .is_some_and(|s| s.starts_with("early stop"))
            {
                if let (Some(best), Some(_)) = (&self.best, &self.config.early_stopping) {
                    self.model = best.model.clone();
                }
            }
        }
        report
    }

    /// Evaluates the current model on the validation set.
    pub async fn evaluate(&mut self) -> Result<Evaluation> {
        Ok(self.validation_pass(None).await?.evaluation)
    }

    /// Forward pass over the validation set; reads back its results (and the epoch's training
    /// sums when given) in a single transaction.
    async fn validation_pass(
        &mut self,
        train_sums: Option<(Tensor<1>, Tensor<1, Int>)>,
    ) -> Result<ValidationPass> {
        let acts = self.cached_activations();
        let frozen = self.model.frozen_prefix(self.trainable);
        let model = self.model.valid();
        let k = self.data.num_classes();
        let val = self.split.validation.clone();
        let mut probs = Vec::new();
        let mut losses = Vec::new();
        for chunk in val.chunks(EVAL_CHUNK) {
            let idx = index_tensor(chunk, &self.device);
            let x = acts.select(idx.clone()).inner();
            let y = self.labels.clone().select(0, idx).inner();
            let logits = model.forward_from(x, frozen, None, false);
            losses.push(cross_entropy_per_example(logits.clone(), y, 0.0));
            probs.push(softmax(logits, 1));
        }
        let mut tx = Transaction::default()
            .register(Tensor::cat(probs, 0))
            .register(Tensor::cat(losses, 0));
        if let Some((loss_sum, correct)) = train_sums {
            tx = tx.register(loss_sum.inner()).register(correct.inner());
        }
        let data = tx.execute_async().await.map_err(read_error)?;
        let floats = |i: usize| -> Result<Vec<f32>> {
            data[i].clone().try_into_vec_as::<f32>().map_err(read_error)
        };
        let probs = floats(0)?;
        let losses = floats(1)?;
        let train = if data.len() == 4 {
            let loss_sum = floats(2)?[0] as f64;
            let correct = data[3]
                .clone()
                .try_into_vec_as::<i64>()
                .map_err(read_error)?[0] as f64;
            Some((loss_sum, correct))
        } else {
            None
        };
        let actual: Vec<usize> = val.iter().map(|&i| self.data.labels()[i]).collect();
        let predicted = argmax_rows(&probs, k);
        let report =
            ClassificationReport::from_confusion(ConfusionMatrix::new(k, &actual, &predicted));
        let mut hardest: Vec<ExampleLoss> = val
            .iter()
            .enumerate()
            .map(|(row, &index)| ExampleLoss {
                index,
                label: actual[row],
                predicted: predicted[row],
                loss: losses[row] as f64,
            })
            .collect();
        hardest.sort_by(|a, b| b.loss.total_cmp(&a.loss));
        let loss = losses.iter().map(|&l| l as f64).sum::<f64>() / losses.len().max(1) as f64;
        let top_k = self.config.top_k.min(k);
        Ok(ValidationPass {
            train,
            evaluation: Evaluation {
                loss,
                top_k,
                top_k_accuracy: top_k_accuracy(&probs, k, &actual, top_k),
                report,
                hardest,
            },
        })
    }

    /// A checkpoint of the run (between epochs): weights, best weights, optimiser state,
    /// schedule position, generator state and history. [`Trainer::resume`] continues it exactly.
    pub async fn checkpoint(&self) -> Result<Vec<u8>> {
        if self.batch_in_epoch != 0 {
            return Err(Error::State(
                "checkpoints are taken between epochs; finish the current epoch first".into(),
            ));
        }
        let mut tensors: Vec<(String, Tensor<1>)> = self
            .model
            .flat_params()
            .into_iter()
            .map(|(p, t)| (format!("model/{p}"), t.inner()))
            .collect();
        if let Some(best) = &self.best {
            tensors.extend(
                best.model
                    .flat_params()
                    .into_iter()
                    .map(|(p, t)| (format!("best/{p}"), t.inner())),
            );
        }
        let mut moment_steps = HashMap::new();
        for (name, steps, t) in self.optimizer.state() {
            moment_steps.insert(name.clone(), steps);
            tensors.push((format!("optim/{name}"), t));
        }
        let meta = CheckpointMeta {
            format: checkpoint::FORMAT,
            config: self.config.clone(),
            train: self.split.train.clone(),
            validation: self.split.validation.clone(),
            rng: self.rng.clone(),
            trainable: self.trainable,
            epoch: self.epoch,
            optimizer_steps: self.optimizer_steps,
            first_loss: self.first_loss,
            best: self.best.as_ref().map(|b| (b.value, b.epoch)),
            bad_epochs: self.bad_epochs,
            elapsed: self.elapsed,
            finished: self.finished,
            history: self.history.clone(),
            moment_steps,
            examples: self.data.len(),
            classes: self.data.classes().to_vec(),
        };
        checkpoint::write(&meta, tensors).await
    }

    /// Continues a run from [`Trainer::checkpoint`] bytes, on the same examples and a backbone of
    /// the same architecture (its weights are replaced by the checkpoint's).
    pub fn resume(
        bytes: &[u8],
        backbone: Backbone,
        data: Dataset,
        device: &Device,
    ) -> Result<Self> {
        let ckpt = checkpoint::read(bytes)?;
        let meta = ckpt.meta;
        if meta.examples != data.len() || meta.classes != data.classes() {
            return Err(Error::Data(format!(
                "this checkpoint was made on {} examples of classes [{}], not on these {} examples of [{}]",
                meta.examples,
                meta.classes.join(", "),
                data.len(),
                data.classes().join(", ")
            )));
        }
        let split = Split {
            train: meta.train.clone(),
            validation: meta.validation.clone(),
        };
        let mut t = Self::new(meta.config.clone(), backbone, data, Some(split), device)?;
        let inner = device.clone().inner();
        let load = |model: Classifier, prefix: &str| -> Result<Classifier> {
            checkpoint::load_params(model, &ckpt.tensors, prefix, &|_| false, device)
        };
        t.model = load(t.model.clone(), "model/")?.with_trainable_blocks(meta.trainable);
        t.trainable = meta.trainable;
        t.last_good = t.model.clone();
        if let Some((value, epoch)) = meta.best {
            let model = load(t.model.clone(), "best/")?;
            t.best = Some(Best {
                value,
                epoch,
                model,
            });
        }
        for (name, steps) in &meta.moment_steps {
            let values = ckpt.tensors.get(&format!("optim/{name}")).ok_or_else(|| {
                Error::Data(format!("the checkpoint lacks optimiser state `{name}`"))
            })?;
            let tensor = Tensor::from_data(TensorData::new(values.clone(), [values.len()]), &inner);
            t.optimizer.restore(name, *steps, tensor);
        }
        t.rng = meta.rng;
        t.epoch = meta.epoch;
        t.optimizer_steps = meta.optimizer_steps;
        t.first_loss = meta.first_loss;
        t.bad_epochs = meta.bad_epochs;
        t.elapsed = meta.elapsed;
        t.finished = meta.finished;
        t.history = meta.history;
        Ok(t)
    }

    /// Class probabilities (top k) for `rows`, flat examples of the data set's size.
    pub async fn predict(&self, rows: &[f32], top_k: usize) -> Result<Vec<Prediction>> {
        predict(&self.model, rows, top_k, &self.device).await
    }
}

struct ValidationPass {
    train: Option<(f64, f64)>,
    evaluation: Evaluation,
}

/// Class probabilities (top `top_k`) of a trained classifier for flat input rows.
pub async fn predict(
    model: &Classifier,
    rows: &[f32],
    top_k: usize,
    device: &Device,
) -> Result<Vec<Prediction>> {
    let dim = model.backbone.input_dim();
    if rows.is_empty() || rows.len() % dim != 0 {
        return Err(Error::Data(format!(
            "prediction input has {} values; expected a multiple of {dim} (one example = {dim} values)",
            rows.len()
        )));
    }
    let n = rows.len() / dim;
    let model = model.valid();
    let plain = device.clone().inner();
    let x = model.backbone.input(rows.to_vec(), n, &plain);
    let logits = model.forward_from(x, 0, None, false);
    let k = logits.dims()[1];
    let probs = softmax(logits, 1)
        .into_data_async()
        .await
        .map_err(read_error)?
        .try_into_vec_as::<f32>()
        .map_err(read_error)?;
    Ok(probs
        .chunks(k)
        .map(|row| {
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            order.truncate(top_k.clamp(1, k));
            Prediction {
                probabilities: order.iter().map(|&c| row[c]).collect(),
                classes: order,
            }
        })
        .collect())
}
