//! Examples and labels, and how they are split for training and validation.

pub mod dataset;
pub mod image;
pub mod split;
pub mod text;

pub use dataset::Dataset;
pub use split::{Split, k_fold, stratified_split};
