//! BERT's uncased WordPiece tokenizer, written to give exactly the ids of Hugging Face's
//! `tokenizers` for all-MiniLM-L6-v2: BertNormalizer (clean control characters and whitespace,
//! space out CJK ideographs, strip accents through NFD, lower-case), BertPreTokenizer (split on
//! whitespace and on every punctuation character), greedy longest-match WordPiece with `##`
//! continuations and `[UNK]` for words of more than 100 characters or without a match.

use std::collections::HashMap;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

const MAX_WORD_CHARS: usize = 100;

/// A vocabulary and the special tokens' ids.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    vocab: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    pad: u32,
}

/// Token ids of several texts, padded to the longest (dynamic padding), with attention masks.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// `[texts, len]` row-major.
    pub ids: Vec<u32>,
    pub mask: Vec<u32>,
    pub len: usize,
}

fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Unassigned
            | GeneralCategory::PrivateUse
    )
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
        || get_general_category(c) == GeneralCategory::SpaceSeparator
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            GeneralCategory::ConnectorPunctuation
                | GeneralCategory::DashPunctuation
                | GeneralCategory::OpenPunctuation
                | GeneralCategory::ClosePunctuation
                | GeneralCategory::InitialPunctuation
                | GeneralCategory::FinalPunctuation
                | GeneralCategory::OtherPunctuation
        )
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// BertNormalizer with clean_text, handle_chinese_chars, strip_accents and lowercase on.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    cleaned
        .nfd()
        .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
        .flat_map(char::to_lowercase)
        .collect()
}

/// BertPreTokenizer: words split on whitespace, every punctuation character its own word.
fn pre_tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        } else if is_punctuation(c) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            words.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

impl Tokenizer {
    /// Reads a `vocab.txt` (one token per line; the line number is the id).
    pub fn from_vocab(text: &str) -> Result<Self> {
        let vocab: HashMap<String, u32> = text
            .lines()
            .enumerate()
            .filter(|(_, t)| !t.is_empty())
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let id = |token: &str| {
            vocab.get(token).copied().ok_or_else(|| {
                Error::Weights(format!(
                    "the vocabulary has no `{token}`; is this a BERT vocab.txt?"
                ))
            })
        };
        Ok(Self {
            unk: id("[UNK]")?,
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            pad: id("[PAD]")?,
            vocab,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let mut piece: String = chars[start..end].iter().collect();
                if start > 0 {
                    piece.insert_str(0, "##");
                }
                if let Some(&id) = self.vocab.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => pieces.push(id),
                None => {
                    out.push(self.unk);
                    return;
                }
            }
            start = end;
        }
        out.extend(pieces);
    }

    /// `[CLS] tokens [SEP]`, truncated to `max_len` ids in all (`max_len` ≥ 2).
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids = vec![self.cls];
        for word in pre_tokenize(&normalize(text)) {
            self.word_pieces(&word, &mut ids);
        }
        ids.truncate(max_len.max(2) - 1);
        ids.push(self.sep);
        ids
    }

    /// Encodes `texts` and pads them to the longest with `[PAD]` and mask 0.
    pub fn encode_batch(&self, texts: &[&str], max_len: usize) -> Batch {
        let encoded: Vec<Vec<u32>> = texts.iter().map(|t| self.encode(t, max_len)).collect();
        let len = encoded.iter().map(Vec::len).max().unwrap_or(2);
        let mut ids = Vec::with_capacity(texts.len() * len);
        let mut mask = Vec::with_capacity(texts.len() * len);
        for e in &encoded {
            ids.extend(
                e.iter()
                    .copied()
                    .chain(std::iter::repeat(self.pad))
                    .take(len),
            );
            mask.extend((0..len).map(|i| u32::from(i < e.len())));
        }
        Batch { ids, mask, len }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Tokenizer {
        Tokenizer::from_vocab(
            "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n,\nun\n##aff\n##able\ncafe\n",
        )
        .unwrap()
    }

    #[test]
    fn wordpiece_is_greedy_longest_match() {
        let t = tiny();
        assert_eq!(
            t.encode("Hello, unaffable world!", 32),
            vec![2, 4, 6, 7, 8, 9, 5, 1, 3]
        );
        assert_eq!(
            t.encode("Café", 32),
            vec![2, 10, 3],
            "accents stripped, lower-cased"
        );
        assert_eq!(
            t.encode("hello world", 3),
            vec![2, 4, 3],
            "truncated before [SEP]"
        );
    }

    #[test]
    fn batches_pad_to_the_longest_with_masks() {
        let b = tiny().encode_batch(&["hello", "hello world"], 16);
        assert_eq!(b.len, 4);
        assert_eq!(b.ids, vec![2, 4, 3, 0, 2, 4, 5, 3]);
        assert_eq!(b.mask, vec![1, 1, 1, 0, 1, 1, 1, 1]);
    }

    #[test]
    fn a_vocab_without_special_tokens_is_refused() {
        assert!(
            Tokenizer::from_vocab("a\nb\n")
                .unwrap_err()
                .to_string()
                .contains("[UNK]")
        );
    }
}
