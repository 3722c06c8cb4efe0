//! Seeded token-level augmentation of encoder rows for training text classifiers: token dropout
//! and neighbour swaps, with `[CLS]` and `[SEP]` kept in place.

use serde::{Deserialize, Serialize};

use super::Dataset;
use super::augment::Augmenter;
use crate::rng::Rng;

/// Token-level augmentation of encoder rows (`max_len` ids then `max_len` mask values):
/// each inner token is dropped with probability `dropout`, and neighbouring inner tokens swap
/// with probability `swap`. `[CLS]` and `[SEP]` stay in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextAugment {
    pub dropout: f32,
    pub swap: f32,
}

impl TextAugment {
    pub fn apply(&self, row: &[f32], max_len: usize, rng: &mut Rng) -> Vec<f32> {
        let len = row[max_len..].iter().filter(|&&m| m > 0.5).count();
        if len <= 2 {
            return row.to_vec();
        }
        let mut inner: Vec<f32> = row[1..len - 1]
            .iter()
            .copied()
            .filter(|_| rng.next_f32() >= self.dropout)
            .collect();
        if inner.is_empty() {
            inner.push(row[1]);
        }
        for i in 1..inner.len() {
            if rng.next_f32() < self.swap {
                inner.swap(i - 1, i);
            }
        }
        let mut ids = vec![row[0]];
        ids.extend(inner);
        ids.push(row[len - 1]);
        let mut out: Vec<f32> = (0..max_len)
            .map(|i| ids.get(i).copied().unwrap_or(0.0))
            .collect();
        out.extend((0..max_len).map(|i| if i < ids.len() { 1.0 } else { 0.0 }));
        out
    }
}

/// Augmented training inputs from the encoder rows of a text data set.
pub struct TextAugmenter {
    pub rows: Dataset,
    pub max_len: usize,
    pub augment: TextAugment,
}

impl Augmenter for TextAugmenter {
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32> {
        self.augment.apply(self.rows.row(index), self.max_len, rng)
    }

    fn settings(&self) -> String {
        format!("text {:?}", self.augment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn augmentation_keeps_special_tokens_and_is_seeded() {
        let max_len = 8;
        let mut row = vec![101.0, 5.0, 6.0, 7.0, 102.0, 0.0, 0.0, 0.0];
        row.extend([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        let aug = TextAugment {
            dropout: 0.3,
            swap: 0.3,
        };
        let a = aug.apply(&row, max_len, &mut Rng::new(1));
        assert_eq!(a, aug.apply(&row, max_len, &mut Rng::new(1)));
        let len = a[max_len..].iter().filter(|&&m| m > 0.5).count();
        assert_eq!((a[0], a[len - 1]), (101.0, 102.0));
        assert!((3..=5).contains(&len));
    }
}
