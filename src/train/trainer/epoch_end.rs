//! The end of an epoch: metrics read back, divergence caught, the best epoch tracked, early
//! stopping decided, and the best weights restored when training ends.

use super::{Best, Trainer};
use crate::error::{Error, Result};
use crate::train::config::Monitor;
use crate::train::report::EpochReport;
use crate::train::schedule::block_lr_factor;

impl Trainer {
    pub(super) async fn end_epoch(&mut self) -> Result<EpochReport> {
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
}
