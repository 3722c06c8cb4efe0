//! The training engine: one run ([`TrainingRun`]: batches, epochs, early stopping, checkpoints,
//! or the convex fit of a linear head by L-BFGS), its loss, optimiser, schedules, metrics and reports; sweeps that compare several runs against the
//! no-training baselines, and k-fold cross-validation as one kind of sweep.

pub mod baseline;
pub mod calibration;
pub mod checkpoint;
pub mod cross_validation;
pub mod lbfgs;
pub mod loss;
pub mod metrics;
pub mod optimizer;
pub mod recipe;
pub mod report;
pub mod run;
pub mod schedule;
pub mod sweep;

pub use report::{EpochReport, Evaluation};
pub use run::{InputRequest, MemoryEstimate, TAB_BUDGET_BYTES, TrainingRun, training_device};
