//! The training engine: configuration, head, loss, optimiser, schedules, metrics and the trainer.

pub mod checkpoint;
pub mod config;
pub mod cross_validation;
pub mod head;
pub mod loss;
pub mod metrics;
pub mod optimizer;
pub mod report;
pub mod schedule;
pub mod trainer;

pub use config::TrainConfig;
pub use report::{EpochReport, Evaluation, Prediction};
pub use trainer::Trainer;
