//! Text: the WordPiece tokenizer of BERT-family encoders.

pub mod tokenizer;

pub use tokenizer::{Batch, Tokenizer};

/// Encoder input rows for `texts`: per text, `max_len` token ids then `max_len` mask values
/// (1 = token, 0 = padding), as the BERT backbone's `input` expects.
pub fn encoder_rows(tokenizer: &Tokenizer, texts: &[&str], max_len: usize) -> Vec<f32> {
    let mut rows = Vec::with_capacity(texts.len() * 2 * max_len);
    for text in texts {
        let ids = tokenizer.encode(text, max_len);
        rows.extend((0..max_len).map(|i| ids.get(i).map_or(0.0, |&id| id as f32)));
        rows.extend((0..max_len).map(|i| if i < ids.len() { 1.0 } else { 0.0 }));
    }
    rows
}
