//! The end of an epoch: metrics read back, divergence caught, the best epoch tracked, early
//! stopping decided, and the best weights restored when training ends.

use super::TrainingRun;
use super::state::{EpochInProgress, Phase, StopReason};
use crate::config::Monitor;
use crate::error::{Error, Result};
use crate::train::report::EpochReport;
use crate::train::schedule::block_lr_factor;

impl TrainingRun {
    pub(super) async fn end_epoch(&mut self, epoch: EpochInProgress) -> Result<EpochReport> {
        let report = self.judge_epoch(epoch).await?;
        if self.is_finished() {
            self.calibrate().await?;
        }
        Ok(report)
    }

    async fn judge_epoch(&mut self, epoch: EpochInProgress) -> Result<EpochReport> {
        let batches = epoch.batches();
        let epoch_seconds = epoch.started.elapsed().as_secs_f64();
        let totals = epoch.totals;
        let (Some(loss_sum), Some(correct)) = (totals.loss_sum, totals.correct) else {
            return Err(Error::State("an epoch ended without any batch".into()));
        };
        let seen = totals.seen;
        let pass = self.validation_pass(Some((loss_sum, correct))).await?;
        let (train_loss_sum, train_correct) = pass.train.unwrap_or((f64::NAN, 0.0));
        let train_loss = train_loss_sum / seen as f64;
        let train_accuracy = train_correct / seen as f64;
        let eval = pass.evaluation;

        self.elapsed += epoch_seconds;
        let epochs_left = self.config.epochs - self.epoch - 1;
        let learning_rate = match &self.convex {
            // The solver's step, except after a contrastive epoch (a probe's fit after the
            // first epoch), whose blocks trained at the schedule's rates.
            Some(fit) if !fit.probe || self.epoch == 0 => fit.last_step,
            _ => self
                .schedule
                .head_lr(self.optimizer_steps.saturating_sub(1)),
        };
        let report = EpochReport {
            epoch: self.epoch,
            epochs: self.config.epochs,
            train_loss,
            train_accuracy,
            val_loss: eval.loss,
            val_accuracy: eval.report.accuracy,
            val_macro_f1: eval.report.macro_f1,
            val_top_k_accuracy: eval.top_k_accuracy,
            learning_rate,
            block_learning_rates: {
                let n = self.model.backbone.num_blocks();
                (n - self.trainable..n)
                    .map(|b| learning_rate * block_lr_factor(&self.config, b, n))
                    .collect()
            },
            trainable_blocks: self.trainable,
            examples_per_second: seen as f64 / epoch_seconds.max(1e-9),
            step_ms: 1e3 * epoch_seconds / batches.max(1) as f64,
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
            let reason = StopReason::Diverged {
                epoch: self.epoch,
                train_loss,
                first_loss: first,
                suggested_learning_rate: self.config.learning_rate / 10.0,
            };
            return Ok(self.finish_epoch(report, Some(reason)));
        }
        self.last_good = self.model.clone();

        if let Some(fit) = self.convex.as_ref().filter(|fit| !fit.probe) {
            // The optimum of a convex problem is its last iterate: nothing to watch or restore.
            let end = match (fit.converged, epochs_left) {
                (true, _) => Some(StopReason::Converged {
                    epoch: self.epoch,
                    iterations: fit.iterations,
                }),
                (false, 0) => Some(StopReason::Completed),
                (false, _) => None,
            };
            return Ok(self.finish_epoch(report, end));
        }

        let early_stopping = self.config.early_stopping.clone();
        let (value, higher_is_better) =
            match early_stopping.as_ref().map_or(Monitor::Loss, |e| e.monitor) {
                Monitor::Loss => (eval.loss, false),
                Monitor::Accuracy => (eval.report.accuracy, true),
                Monitor::MacroF1 => (eval.report.macro_f1, true),
            };
        let min_delta = early_stopping.as_ref().map_or(0.0, |e| e.min_delta);
        self.best
            .observe(value, higher_is_better, min_delta, self.epoch, &self.model);
        if let Some(es) = &early_stopping
            && self.best.bad_epochs >= es.patience
            && epochs_left > 0
        {
            let reason = StopReason::EarlyStop {
                monitor: es.monitor,
                patience: es.patience,
                best_epoch: self.best.epoch().unwrap_or(0),
            };
            return Ok(self.finish_epoch(report, Some(reason)));
        }
        let end = (epochs_left == 0).then_some(StopReason::Completed);
        Ok(self.finish_epoch(report, end))
    }

    /// Records the epoch; when `stop` is given the run ends, keeping the best epoch's weights
    /// when early stopping watches them and the run did not diverge.
    fn finish_epoch(&mut self, mut report: EpochReport, stop: Option<StopReason>) -> EpochReport {
        self.epoch += 1;
        match stop {
            Some(reason) => {
                report.stopped = reason.message();
                if reason.restores_best()
                    && self.config.early_stopping.is_some()
                    && let Some(best) = &self.best.best
                {
                    self.model = best.model.clone();
                }
                self.phase = Phase::Finished(reason);
            }
            None => self.phase = Phase::BetweenEpochs,
        }
        self.history.push(report.clone());
        report
    }
}
