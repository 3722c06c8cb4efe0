//! The state a run keeps between calls, in small types: where it is ([`Phase`]), the epoch in
//! progress and its running totals, the best epoch so far, and why it stopped.

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::config::Monitor;
use crate::model::Classifier;
use crate::rng::Rng;

/// Where a run is.
pub(super) enum Phase {
    /// The next step starts a new epoch.
    BetweenEpochs,
    /// Some batches of an epoch have run.
    InEpoch(EpochInProgress),
    /// The run has ended; stepping is an error.
    Finished(StopReason),
}

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopReason {
    /// Every configured epoch ran.
    Completed,
    /// The monitored validation value did not improve for `patience` epochs; the weights of
    /// `best_epoch` (0-based) are kept.
    EarlyStop {
        monitor: Monitor,
        patience: usize,
        best_epoch: usize,
    },
    /// The convex fit of the head reached its optimum (no gradient component above the
    /// tolerance, or no step that still lowers the objective) after `iterations` L-BFGS
    /// iterations, in `epoch` (0-based).
    Converged { epoch: usize, iterations: usize },
    /// The training loss became non-finite or grew past the divergence factor in `epoch`
    /// (0-based); the weights after the epoch before it are kept.
    Diverged {
        epoch: usize,
        train_loss: f64,
        first_loss: f64,
        suggested_learning_rate: f64,
    },
}

impl StopReason {
    /// Whether the best epoch's weights replace the last ones when the run ends this way (a
    /// diverged run keeps its last good weights instead).
    pub fn restores_best(&self) -> bool {
        !matches!(self, Self::Diverged { .. })
    }

    /// What the epoch report says, for a run that stopped before its last epoch.
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Completed => None,
            Self::EarlyStop {
                monitor,
                patience,
                best_epoch,
            } => Some(format!(
                "early stop: validation {monitor:?} did not improve for {patience} epochs; kept the weights of epoch {}",
                best_epoch + 1
            )),
            Self::Converged { epoch, iterations } => Some(format!(
                "converged: the head is the optimum of its convex problem (logistic regression), \
                 reached after {iterations} L-BFGS iterations in epoch {}",
                epoch + 1
            )),
            Self::Diverged {
                epoch,
                train_loss,
                first_loss,
                suggested_learning_rate,
            } => {
                let kept = if *epoch == 0 {
                    "the initial weights".to_string()
                } else {
                    format!("the weights of epoch {epoch}")
                };
                Some(format!(
                    "training diverged in epoch {} (training loss {train_loss:.4}, first epoch {first_loss:.4}); kept {kept}. \
                     Try a learning rate 10× lower ({suggested_learning_rate:.1e}) or gradient clipping.",
                    epoch + 1
                ))
            }
        }
    }
}

/// An epoch whose batches are running: the order of its training examples, the next batch, and
/// the running totals.
pub(super) struct EpochInProgress {
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    pub totals: EpochTotals,
    pub started: Instant,
    /// The run's generator before this epoch's order was drawn.
    pub rng_at_start: Rng,
}

impl EpochInProgress {
    pub fn new(order: Vec<usize>, batch_size: usize, rng_at_start: Rng) -> Self {
        Self {
            order,
            batch_size,
            next: 0,
            totals: EpochTotals::default(),
            started: Instant::now(),
            rng_at_start,
        }
    }

    /// An epoch that ran as a whole in one call (the convex fit), with its totals and the
    /// number of solver iterations in place of batches.
    pub fn ended(totals: EpochTotals, started: Instant, steps: usize) -> Self {
        Self {
            order: Vec::new(),
            batch_size: 1,
            next: steps,
            totals,
            started,
            rng_at_start: Rng::new(0),
        }
    }

    /// The examples of the next batch (the last one may be smaller).
    pub fn next_batch(&mut self) -> Vec<usize> {
        let batch = self.peek_batch().to_vec();
        self.next += 1;
        batch
    }

    /// The examples of the next batch, without moving past it.
    pub fn peek_batch(&self) -> &[usize] {
        let start = self.next.saturating_mul(self.batch_size);
        let end = start.saturating_add(self.batch_size).min(self.order.len());
        self.order.get(start..end).unwrap_or_default()
    }

    /// The epoch with its last batch not yet run (after `next_batch` whose batch failed).
    pub fn rewound(mut self) -> Self {
        self.next = self.next.saturating_sub(1);
        self
    }

    /// Whether every batch of the epoch has run.
    pub fn is_done(&self) -> bool {
        self.next >= self.order.len().div_ceil(self.batch_size)
    }

    pub fn batches(&self) -> usize {
        self.next
    }
}

/// Sums over an epoch's training batches, kept on the device until the epoch ends (one read-back
/// per epoch).
#[derive(Default)]
pub(super) struct EpochTotals {
    pub loss_sum: Option<Tensor<1>>,
    pub correct: Option<Tensor<1, Int>>,
    pub seen: usize,
}

impl EpochTotals {
    pub fn add(&mut self, loss_sum: Tensor<1>, correct: Tensor<1, Int>, examples: usize) {
        self.loss_sum = Some(match self.loss_sum.take() {
            Some(s) => s + loss_sum,
            None => loss_sum,
        });
        self.correct = Some(match self.correct.take() {
            Some(c) => c + correct,
            None => correct,
        });
        self.seen += examples;
    }
}

/// The best epoch so far by the monitored validation value, and how many epochs since it.
#[derive(Default)]
pub(super) struct BestTracker {
    pub best: Option<Best>,
    pub bad_epochs: usize,
}

/// The best epoch's value, index and weights.
pub(super) struct Best {
    pub value: f64,
    pub epoch: usize,
    pub model: Classifier,
}

impl BestTracker {
    pub fn epoch(&self) -> Option<usize> {
        self.best.as_ref().map(|b| b.epoch)
    }

    /// Records an epoch's value; keeps its weights when it improved on the best by more than
    /// `min_delta`.
    pub fn observe(
        &mut self,
        value: f64,
        higher_is_better: bool,
        min_delta: f64,
        epoch: usize,
        model: &Classifier,
    ) {
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
                epoch,
                model: model.clone(),
            });
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
    }
}
