//! Checkpoints of a run and resuming from them.

use burn::tensor::{Device, Tensor, TensorData};
use std::collections::HashMap;

use super::TrainingRun;
use super::state::{Best, Phase, StopReason};
use crate::backbone::Backbone;
use crate::data::{Augmenter, Dataset, Split};
use crate::error::{Error, Result};
use crate::model::param_file::load_params;
use crate::model::{Classifier, ParamOwner};
use crate::train::checkpoint::{self, CheckpointMeta};

impl TrainingRun {
    /// A checkpoint of the run (between epochs): weights, best weights, optimiser state,
    /// schedule position, generator state and history. [`TrainingRun::from_checkpoint`] continues
    /// it exactly.
    /// Only parameters that have trained are stored (the rest still equal the pretrained
    /// weights, which resuming loads anyway): a head-only checkpoint of MobileNetV2 is a few
    /// hundred kilobytes instead of tens of megabytes, so it can be taken after every epoch.
    pub async fn checkpoint(&self) -> Result<Vec<u8>> {
        // An epoch whose order is drawn but none of whose batches ran (a run asking for its
        // first augmented batch) is still between epochs: it is recorded as before the draw.
        let rng = match &self.phase {
            Phase::InEpoch(epoch) if epoch.batches() == 0 => epoch.rng_at_start.clone(),
            Phase::InEpoch(_) => {
                return Err(Error::State(
                    "checkpoints are taken between epochs; finish the current epoch first".into(),
                ));
            }
            _ => self.rng.clone(),
        };
        // The trainable set only grows during a run (gradual unfreezing adds blocks), so what
        // trains now is everything that has ever trained.
        let num_blocks = self.model.backbone.num_blocks();
        let trained =
            |path: &str| ParamOwner::of(&format!("{path}.")).trains(self.trainable, num_blocks);
        let mut tensors: Vec<(String, Tensor<1>)> = Vec::new();
        let mut models = vec![("model/", &self.model)];
        if let Some(best) = &self.best.best {
            models.push(("best/", &best.model));
        }
        for (prefix, model) in models {
            tensors.extend(
                model
                    .flat_params()
                    .into_iter()
                    .filter(|(p, _)| trained(p))
                    .map(|(p, t)| (format!("{prefix}{p}"), t.inner())),
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
            rng,
            trainable: self.trainable,
            epoch: self.epoch,
            optimizer_steps: self.optimizer_steps,
            first_loss: self.first_loss,
            best: self.best.best.as_ref().map(|b| (b.value, b.epoch)),
            bad_epochs: self.best.bad_epochs,
            elapsed: self.elapsed,
            finished: self.is_finished(),
            stop_reason: self.stop_reason().cloned(),
            history: self.history.clone(),
            moment_steps,
            examples: self.data.len(),
            classes: self.data.classes().to_vec(),
            examples_fingerprint: Some(self.data.fingerprint()),
            augmentation: self.augmenter.as_ref().map(|a| a.settings()),
            calibration: self.calibration.clone(),
        };
        checkpoint::write(&meta, tensors).await
    }

    /// Restores a run from [`TrainingRun::checkpoint`] bytes, on the same examples and a backbone
    /// of the same architecture (its weights are replaced by the checkpoint's), with
    /// `augmenter`, which must have the settings the run had (checkpoints of older versions
    /// recorded none and take any).
    pub fn from_checkpoint(
        bytes: &[u8],
        backbone: Backbone,
        data: Dataset,
        augmenter: Option<Box<dyn Augmenter>>,
        device: &Device,
    ) -> Result<Self> {
        let ckpt = checkpoint::read(bytes)?;
        let meta = ckpt.meta;
        let given = augmenter.as_ref().map(|a| a.settings());
        let recorded_before_0_2 =
            meta.augmentation.is_none() && meta.examples_fingerprint.is_none();
        if !recorded_before_0_2 && given != meta.augmentation {
            let describe = |a: &Option<String>| a.clone().unwrap_or_else(|| "none".into());
            return Err(Error::Data(format!(
                "this checkpoint was trained with augmentation {} but this project has {}; \
                 set the same augmentation to restore it",
                describe(&meta.augmentation),
                describe(&given)
            )));
        }
        if meta.examples != data.len() || meta.classes != data.classes() {
            return Err(Error::Data(format!(
                "this checkpoint was made on {} examples of classes [{}], not on these {} examples of [{}]",
                meta.examples,
                meta.classes.join(", "),
                data.len(),
                data.classes().join(", ")
            )));
        }
        if meta
            .examples_fingerprint
            .as_ref()
            .is_some_and(|f| *f != data.fingerprint())
        {
            return Err(Error::Data(format!(
                "this checkpoint was made on other examples: the same {} examples of classes [{}], \
                 but different contents or order; restore it in the project it came from",
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
        let num_blocks = t.model.backbone.num_blocks();
        let untrained =
            |path: &str| !ParamOwner::of(&format!("{path}.")).trains(meta.trainable, num_blocks);
        let load = |model: Classifier, prefix: &str| -> Result<Classifier> {
            load_params(model, &ckpt.tensors, prefix, &untrained, device)
        };
        t.model = load(t.model.clone(), "model/")?.with_trainable_blocks(meta.trainable);
        t.trainable = meta.trainable;
        t.last_good = t.model.clone();
        if let Some((value, epoch)) = meta.best {
            let model = load(t.model.clone(), "best/")?;
            t.best.best = Some(Best {
                value,
                epoch,
                model,
            });
        }
        if meta.epoch > meta.config.epochs || (meta.epoch == meta.config.epochs && !meta.finished) {
            return Err(Error::Data(format!(
                "this checkpoint is damaged: it is at epoch {} of {}",
                meta.epoch, meta.config.epochs
            )));
        }
        let sizes: HashMap<String, usize> = t
            .model
            .flat_params()
            .into_iter()
            .map(|(path, tensor)| (path, tensor.dims()[0]))
            .collect();
        for (name, steps) in &meta.moment_steps {
            let values = ckpt.tensors.get(&format!("optim/{name}")).ok_or_else(|| {
                Error::Data(format!("the checkpoint lacks optimiser state `{name}`"))
            })?;
            // Each moment has its parameter's size and at most the run's step count; a damaged
            // file must not reach the optimiser.
            let param = name
                .rsplit_once('/')
                .map_or(name.as_str(), |(path, _)| path);
            if usize::try_from(*steps).map_or(true, |s| s > meta.optimizer_steps) {
                return Err(Error::Data(format!(
                    "this checkpoint is damaged: optimiser state `{name}` counts {steps} steps of {}",
                    meta.optimizer_steps
                )));
            }
            if sizes.get(param) != Some(&values.len()) {
                return Err(Error::Data(format!(
                    "this checkpoint is damaged: optimiser state `{name}` has {} values, its parameter {}",
                    values.len(),
                    sizes
                        .get(param)
                        .map_or("does not exist".to_string(), |n| format!("has {n}"))
                )));
            }
            let tensor = Tensor::from_data(TensorData::new(values.clone(), [values.len()]), &inner);
            t.optimizer.restore(name, *steps, tensor);
        }
        t.augmenter = augmenter;
        t.rng = meta.rng;
        t.epoch = meta.epoch;
        t.optimizer_steps = meta.optimizer_steps;
        t.first_loss = meta.first_loss;
        t.best.bad_epochs = meta.bad_epochs;
        t.elapsed = meta.elapsed;
        if meta.finished {
            // Checkpoints written before stop reasons were recorded say only "finished".
            t.phase = Phase::Finished(meta.stop_reason.unwrap_or(StopReason::Completed));
        }
        t.history = meta.history;
        if let Some(calibration) = meta.calibration {
            if !crate::model::head::valid_temperature(calibration.temperature) {
                return Err(Error::Data(format!(
                    "this checkpoint is damaged: its temperature is {}",
                    calibration.temperature
                )));
            }
            t.model.head.temperature = calibration.temperature;
            t.calibration = Some(calibration);
        }
        Ok(t)
    }
}
