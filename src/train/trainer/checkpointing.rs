//! Checkpoints of a run and resuming from them.

use burn::tensor::{Device, Tensor, TensorData};
use std::collections::HashMap;

use super::{Best, Trainer};
use crate::backbone::Backbone;
use crate::data::{Dataset, Split};
use crate::error::{Error, Result};
use crate::model::{Classifier, ParamOwner};
use crate::train::checkpoint::{self, CheckpointMeta};

impl Trainer {
    /// A checkpoint of the run (between epochs): weights, best weights, optimiser state,
    /// schedule position, generator state and history. [`Trainer::resume`] continues it exactly.
    /// Only parameters that have trained are stored (the rest still equal the pretrained
    /// weights, which resuming loads anyway): a head-only checkpoint of MobileNetV2 is a few
    /// hundred kilobytes instead of tens of megabytes, so it can be taken after every epoch.
    pub async fn checkpoint(&self) -> Result<Vec<u8>> {
        if self.batch_in_epoch != 0 {
            return Err(Error::State(
                "checkpoints are taken between epochs; finish the current epoch first".into(),
            ));
        }
        // The trainable set only grows during a run (gradual unfreezing adds blocks), so what
        // trains now is everything that has ever trained.
        let num_blocks = self.model.backbone.num_blocks();
        let trained =
            |path: &str| ParamOwner::of(&format!("{path}.")).trains(self.trainable, num_blocks);
        let mut tensors: Vec<(String, Tensor<1>)> = Vec::new();
        let mut models = vec![("model/", &self.model)];
        if let Some(best) = &self.best {
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
        let num_blocks = t.model.backbone.num_blocks();
        let untrained =
            |path: &str| !ParamOwner::of(&format!("{path}.")).trains(meta.trainable, num_blocks);
        let load = |model: Classifier, prefix: &str| -> Result<Classifier> {
            checkpoint::load_params(model, &ckpt.tensors, prefix, &untrained, device)
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
}
