//! Seeded, stratified train/validation splits and k-fold cross-validation.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Indices of the training and validation examples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
}

fn indices_per_class(labels: &[usize], num_classes: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut per_class = vec![Vec::new(); num_classes];
    for (i, &l) in labels.iter().enumerate() {
        per_class[l].push(i);
    }
    for idx in &mut per_class {
        rng.shuffle(idx);
    }
    per_class
}

/// Holds out about `fraction` of each class. A class with two or more examples has at least one
/// in each part; a class with a single example keeps it for training.
pub fn stratified_split(
    labels: &[usize],
    num_classes: usize,
    fraction: f64,
    rng: &mut Rng,
) -> Split {
    let mut split = Split {
        train: Vec::new(),
        validation: Vec::new(),
    };
    for idx in indices_per_class(labels, num_classes, rng) {
        let n = idx.len();
        let n_val = if n < 2 {
            0
        } else {
            ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
        };
        split.validation.extend_from_slice(&idx[..n_val]);
        split.train.extend_from_slice(&idx[n_val..]);
    }
    split.train.sort_unstable();
    split.validation.sort_unstable();
    split
}

/// `k` stratified folds: each example is in exactly one validation part.
pub fn k_fold(labels: &[usize], num_classes: usize, k: usize, rng: &mut Rng) -> Result<Vec<Split>> {
    if k < 2 || k > labels.len() {
        return Err(Error::config(
            "folds",
            format!(
                "must be between 2 and the number of examples ({}), got {k}",
                labels.len()
            ),
        ));
    }
    let mut fold_of = vec![0usize; labels.len()];
    let mut next = 0;
    for idx in indices_per_class(labels, num_classes, rng) {
        for i in idx {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    Ok((0..k)
        .map(|f| Split {
            train: (0..labels.len()).filter(|&i| fold_of[i] != f).collect(),
            validation: (0..labels.len()).filter(|&i| fold_of[i] == f).collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_seeded_and_complete() {
        let labels: Vec<usize> = (0..100)
            .map(|i| {
                if i < 80 {
                    0
                } else if i < 98 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let s = stratified_split(&labels, 3, 0.25, &mut Rng::new(3));
        let count = |part: &[usize], c| part.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!(
            (
                count(&s.validation, 0),
                count(&s.validation, 1),
                count(&s.validation, 2)
            ),
            (20, 5, 1)
        );
        assert_eq!(s.train.len() + s.validation.len(), 100);
        assert_eq!(s, stratified_split(&labels, 3, 0.25, &mut Rng::new(3)));
        assert_ne!(s, stratified_split(&labels, 3, 0.25, &mut Rng::new(4)));
    }

    #[test]
    fn folds_partition_the_examples() {
        let labels: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let folds = k_fold(&labels, 3, 5, &mut Rng::new(1)).unwrap();
        let mut all: Vec<usize> = folds.iter().flat_map(|f| f.validation.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..30).collect::<Vec<_>>());
        assert!(folds.iter().all(|f| f.validation.len() == 6));
        assert!(k_fold(&labels, 3, 1, &mut Rng::new(1)).is_err());
    }
}
