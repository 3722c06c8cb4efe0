//! Examples and how they are prepared: the data set, stratified splits, images (preprocessing and
//! augmentation), labelled text files, the WordPiece tokenizer and text augmentation. The bottom
//! layer: it knows nothing of backbones, models or training.

pub mod augment;
pub mod dataset;
pub mod image;
pub mod split;
pub mod text_augment;
pub mod text_table;
pub mod tokenizer;

pub use augment::{AugmentedElsewhere, Augmenter};
pub use dataset::Dataset;
pub use split::{Split, k_fold, stratified_split};
pub use tokenizer::{Tokenizer, encoder_rows};
