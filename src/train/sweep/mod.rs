//! A sweep: several training runs on the same examples and split, compared on one leaderboard
//! against the no-training baselines, sharing the frozen backbone's cached activations wherever
//! their frozen parts agree.
//!
//! The sweep hands out one run at a time ([`Sweep::start_next`]); whoever drives it steps the run
//! exactly like a single one (the browser supplies images as the run asks) and gives it back
//! ([`Sweep::finish_baseline`] / [`Sweep::finish_entry`]). First comes the baseline task: a
//! frozen-backbone run that only fills its cache, from which the nearest-centroid and k-NN
//! baselines are scored and which the entries with a frozen backbone then reuse.

mod draw;
mod fields;
pub mod plan;
pub mod row;

use burn::tensor::Device;

pub use draw::Draw;
pub use plan::{EntrySplit, SweepEntry, SweepSpec};
pub use row::{Leaderboard, SweepRow};

use crate::backbone::{Activations, Backbone, BackboneSpec};
use crate::config::{Strategy, TrainConfig};
use crate::data::image::Augment;
use crate::data::{Augmenter, Dataset, Split, k_fold, stratified_split};
use crate::error::{Error, Result};
use crate::model::file::{ModelInfo, export};
use crate::rng::Rng;
use crate::train::baseline::{Baselines, baselines};
use crate::train::cross_validation::summarize;
use crate::train::recipe::{AutoPlan, DataProfile, auto_plan};
use crate::train::run::{TrainingRun, host_features, training_device};

/// What the next run handed out is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepTask {
    /// Fill the whole-backbone cache (step until `caching_progress()` is `None`), for the baselines.
    Baseline,
    /// Train entry `i` of the plan to its end.
    Entry(usize),
}

/// Several runs compared on one leaderboard.
pub struct Sweep {
    entries: Vec<SweepEntry>,
    data: Dataset,
    num_blocks: usize,
    /// The held-out split every `Holdout` entry shares, and the folds of a k-fold sweep.
    holdout: Split,
    folds: Vec<Split>,
    baseline_done: bool,
    /// Per split: `[holdout]`, or one per fold.
    baselines: Vec<Baselines>,
    /// Complete caches by (frozen prefix, gradient checkpointing), kept while an entry still to
    /// run starts with that prefix (tensors of runs with and without checkpointing cannot meet).
    caches: Vec<(usize, bool, Activations)>,
    next: usize,
    rows: Vec<SweepRow>,
    cache_chunks_computed: usize,
    /// For an Auto sweep: the recipes it compares and why.
    auto: Option<AutoPlan>,
}

/// `spec` for examples of `profile`: Auto becomes the recipes `auto_plan` names for them, with
/// the plan (what and why); any other spec stays as it is.
fn for_data(spec: &SweepSpec, profile: &DataProfile) -> (SweepSpec, Option<AutoPlan>) {
    match spec {
        SweepSpec::Auto {} => {
            let plan = auto_plan(profile);
            (SweepSpec::Recipes(plan.recipes.clone()), Some(plan))
        }
        other => (other.clone(), None),
    }
}

impl Sweep {
    /// Plans `spec` on the project's settings `base`/`base_augment` for `data` and a backbone of
    /// `num_blocks` blocks. The split is the one a single run of `base` would draw. `profile`
    /// says whether the examples are images and all greyscale, to which a recipe's augmentation
    /// adapts as in a single run (its `smallest_class` is counted here, from `data`).
    pub fn new(
        spec: &SweepSpec,
        base: &TrainConfig,
        base_augment: &Augment,
        data: Dataset,
        num_blocks: usize,
        profile: &DataProfile,
    ) -> Result<Self> {
        data.check_trainable()?;
        let profile = DataProfile {
            smallest_class: data.class_counts().into_iter().min().unwrap_or(0),
            ..*profile
        };
        let (spec, auto) = for_data(spec, &profile);
        let spec = &spec;
        let entries = spec.plan(base, base_augment, num_blocks, &profile)?;
        let mut rng = Rng::new(base.seed);
        let holdout = stratified_split(
            data.labels(),
            data.num_classes(),
            base.validation_fraction,
            &mut rng.fork(1),
        );
        let folds = match spec {
            SweepSpec::Folds { k, .. } => k_fold(
                data.labels(),
                data.num_classes(),
                *k,
                &mut Rng::new(base.seed),
            )?,
            _ => Vec::new(),
        };
        if holdout.validation.is_empty() || holdout.train.is_empty() {
            return Err(Error::Data(
                "no examples left for validation or training: give every class at least 2 examples"
                    .into(),
            ));
        }
        Ok(Self {
            entries,
            data,
            num_blocks,
            holdout,
            folds,
            baseline_done: false,
            baselines: Vec::new(),
            caches: Vec::new(),
            next: 0,
            rows: Vec::new(),
            cache_chunks_computed: 0,
            auto,
        })
    }

    pub fn entries(&self) -> &[SweepEntry] {
        &self.entries
    }

    /// The task `start_next` will hand out, or `None` when the sweep is done.
    pub fn next_task(&self) -> Option<SweepTask> {
        match self.baseline_done {
            false => Some(SweepTask::Baseline),
            true => (self.next < self.entries.len()).then_some(SweepTask::Entry(self.next)),
        }
    }

    fn split_of(&self, split: EntrySplit) -> Split {
        match split {
            EntrySplit::Holdout => self.holdout.clone(),
            EntrySplit::Fold { index } => self.folds[index].clone(),
            EntrySplit::All => Split {
                train: (0..self.data.len()).collect(),
                validation: (0..self.data.len()).collect(),
            },
        }
    }

    /// The next run, with a cache of its frozen part when an earlier run computed one, on
    /// `training_device(device, …)` of its settings; `backbone` loads the pretrained backbone
    /// afresh on the device it is given. `None` when the sweep is done.
    pub fn start_next(
        &mut self,
        backbone: &dyn Fn(&Device) -> Result<Backbone>,
        device: &Device,
    ) -> Result<Option<(SweepTask, TrainingRun)>> {
        let Some(task) = self.next_task() else {
            return Ok(None);
        };
        let (config, split) = match task {
            SweepTask::Baseline => {
                let base = self.entries.first().map(|e| e.config.clone());
                let config = TrainConfig {
                    strategy: Strategy::FeatureExtraction,
                    ..base.unwrap_or_default()
                };
                let split = match self.folds.first() {
                    Some(fold) => fold.clone(),
                    None => self.holdout.clone(),
                };
                (config, split)
            }
            SweepTask::Entry(i) => {
                let entry = &self.entries[i];
                (entry.config.clone(), self.split_of(entry.split))
            }
        };
        let device = training_device(device, &config);
        let checkpointing = config.gradient_checkpointing;
        let mut run = TrainingRun::new(
            config,
            backbone(&device)?,
            self.data.clone(),
            Some(split),
            &device,
        )?;
        for (frozen, _, all) in self.caches.iter().filter(|c| c.1 == checkpointing) {
            if run.adopt_cache(*frozen, all.clone()) {
                break;
            }
        }
        Ok(Some((task, run)))
    }

    /// The augmentation entry `i` trains with.
    pub fn augment_of(&self, task: SweepTask) -> Augment {
        match task {
            SweepTask::Baseline => Augment::default(),
            SweepTask::Entry(i) => self.entries[i].augment.clone(),
        }
    }

    /// Keeps `run`'s complete cache while an entry still to run starts from that frozen prefix.
    fn keep_cache(&mut self, run: &TrainingRun) {
        self.cache_chunks_computed += run.cache_chunks_computed();
        let needed: Vec<(usize, bool)> = self.entries[self.next..]
            .iter()
            .map(|e| {
                let frozen = self
                    .num_blocks
                    .saturating_sub(e.config.trainable_blocks(0, self.num_blocks));
                (frozen, e.config.gradient_checkpointing)
            })
            .collect();
        let checkpointing = run.config().gradient_checkpointing;
        if let Some((frozen, all)) = run.complete_cache()
            && !self
                .caches
                .iter()
                .any(|(f, c, _)| (*f, *c) == (frozen, checkpointing))
        {
            self.caches.push((frozen, checkpointing, all));
        }
        self.caches.retain(|(f, c, _)| needed.contains(&(*f, *c)));
    }

    /// Takes back the baseline run once its cache is complete: scores the baselines on every
    /// split and keeps the cache for the entries.
    pub async fn finish_baseline(&mut self, run: TrainingRun) -> Result<Baselines> {
        let (_, all) = run.complete_cache().ok_or_else(|| {
            Error::State(
                "the baseline run's cache is not complete yet: step it until caching is done"
                    .into(),
            )
        })?;
        let (values, dim) = host_features(all).await?;
        let (labels, classes) = (self.data.labels(), self.data.num_classes());
        let splits = match self.folds.is_empty() {
            true => vec![self.holdout.clone()],
            false => self.folds.clone(),
        };
        let mut scored = Vec::with_capacity(splits.len());
        for split in &splits {
            scored.push(baselines(&values, dim, labels, classes, split).await?);
        }
        self.baselines = scored;
        self.baseline_done = true;
        self.keep_cache(&run);
        Baselines::mean(&self.baselines)
            .ok_or_else(|| Error::State("internal: no baselines were scored".into()))
    }

    /// Takes back entry `entry`'s finished run: evaluates the kept model, measures its inference
    /// latency and exports it (described for `backbone`, trained from `pretrained`). Returns its
    /// row and its model file.
    pub async fn finish_entry(
        &mut self,
        entry: usize,
        mut run: TrainingRun,
        backbone: &BackboneSpec,
        pretrained: Option<&[u8]>,
    ) -> Result<(SweepRow, Vec<u8>)> {
        if SweepTask::Entry(entry) != self.next_task().unwrap_or(SweepTask::Baseline) {
            return Err(Error::State(format!(
                "the sweep waits for another run than entry {entry}"
            )));
        }
        if !run.is_finished() {
            return Err(Error::State(
                "this run has not finished: step it to its end first".into(),
            ));
        }
        let spec = self.entries[entry].clone();
        let evaluation = run.evaluate().await?;
        let estimate = run.memory_estimate();
        let example = match self.data.rows_held() {
            true => self.data.gather(&run.split().validation[..1])?,
            false => vec![0.0; self.data.dim()],
        };
        let device = run.device().clone();
        let (inference_ms, inference_ms_batched) =
            row::inference_latency(run.kept_model(), &example, &device).await?;
        let info = ModelInfo::new(
            backbone.clone(),
            pretrained,
            self.data.classes().to_vec(),
            spec.config.clone(),
        );
        let model = export(run.kept_model(), &info).await?;
        let history = run.history().to_vec();
        let epochs_run = history.len();
        let seconds = history.last().map_or(0.0, |h| h.elapsed_seconds);
        let baseline_accuracy = match spec.split {
            EntrySplit::Holdout => self.baselines.first(),
            EntrySplit::Fold { index } => self.baselines.get(index),
            EntrySplit::All => None,
        }
        .map(|b| b.nearest_centroid.max(b.knn));
        let accuracy = evaluation.report.accuracy;
        let row = SweepRow {
            entry,
            name: spec.name,
            split: spec.split,
            config: spec.config,
            augment: spec.augment,
            notes: spec.notes,
            accuracy,
            macro_f1: evaluation.report.macro_f1,
            loss: evaluation.loss,
            kept_epoch: evaluation.epoch,
            epochs_run,
            stop_reason: run.stop_reason().cloned(),
            baseline_accuracy,
            gain_points: baseline_accuracy.map(|b| (accuracy - b) * 100.0),
            seconds,
            seconds_per_epoch: seconds / epochs_run.max(1) as f64,
            step_ms: history.iter().map(|h| h.step_ms).sum::<f64>() / epochs_run.max(1) as f64,
            estimated_peak_bytes: estimate.total_bytes,
            cache_reused: run.cache_chunks_computed() == 0,
            inference_ms,
            inference_ms_batched,
            latency_batch: row::LATENCY_BATCH,
            model_bytes: model.len(),
            history,
            evaluation: row::trimmed(evaluation),
        };
        self.next += 1;
        self.keep_cache(&run);
        self.rows.push(row.clone());
        Ok((row, model))
    }

    /// Everything finished so far, ranked.
    pub fn leaderboard(&self) -> Leaderboard {
        let folds = self.folds.len();
        let fold_rows: Vec<&SweepRow> = self
            .rows
            .iter()
            .filter(|r| matches!(r.split, EntrySplit::Fold { .. }))
            .collect();
        Leaderboard {
            baselines: Baselines::mean(&self.baselines),
            ranking: row::ranking(&self.rows),
            rows: self.rows.clone(),
            planned: self.entries.len(),
            cross_validation: (folds > 0 && fold_rows.len() == folds)
                .then(|| summarize(&fold_rows)),
            cache_chunks_computed: self.cache_chunks_computed,
            auto: self.auto.clone(),
        }
    }

    /// Runs the whole sweep where the data set holds its rows (natively, or texts in a tab):
    /// `backbone` loads the pretrained backbone afresh on a device, `augmenter` gives an entry's
    /// augmentation.
    pub async fn run_to_end(
        &mut self,
        backbone: &dyn Fn(&Device) -> Result<Backbone>,
        augmenter: &dyn Fn(&Augment) -> Option<Box<dyn Augmenter>>,
        model_of: (&BackboneSpec, Option<&[u8]>),
        device: &Device,
    ) -> Result<Leaderboard> {
        while let Some((task, mut run)) = self.start_next(backbone, device)? {
            match task {
                SweepTask::Baseline => {
                    run.fill_cache()?;
                    self.finish_baseline(run).await?;
                }
                SweepTask::Entry(i) => {
                    run.set_augmenter(augmenter(&self.entries[i].augment));
                    run.fit().await?;
                    self.finish_entry(i, run, model_of.0, model_of.1).await?;
                }
            }
        }
        Ok(self.leaderboard())
    }
}
