//! Text: the WordPiece tokenizer of BERT-family encoders.

pub mod tokenizer;

pub use tokenizer::{Batch, Tokenizer};
