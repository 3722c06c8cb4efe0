//! Classification metrics computed on the host from one readback of predictions.

use serde::{Deserialize, Serialize};

/// `counts[actual][predicted]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    /// Tallies `(actual, predicted)` pairs for `num_classes` classes.
    pub fn new(num_classes: usize, actual: &[usize], predicted: &[usize]) -> Self {
        let mut counts = vec![vec![0; num_classes]; num_classes];
        for (&a, &p) in actual.iter().zip(predicted) {
            counts[a][p] += 1;
        }
        Self { counts }
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..self.counts.len()).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }
}

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Per-class and averaged scores of a confusion matrix. A class never predicted has precision 0,
/// a class without examples has recall 0 (scikit-learn's `zero_division=0`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    pub accuracy: f64,
    pub per_class: Vec<ClassMetrics>,
    pub macro_f1: f64,
    pub weighted_f1: f64,
    pub confusion: ConfusionMatrix,
}

impl ClassificationReport {
    pub fn from_confusion(confusion: ConfusionMatrix) -> Self {
        let k = confusion.counts.len();
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|c| {
                let tp = confusion.counts[c][c];
                let support: usize = confusion.counts[c].iter().sum();
                let predicted: usize = (0..k).map(|a| confusion.counts[a][c]).sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                ClassMetrics {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        let total: usize = per_class.iter().map(|m| m.support).sum();
        let macro_f1 = if k == 0 {
            0.0
        } else {
            per_class.iter().map(|m| m.f1).sum::<f64>() / k as f64
        };
        let weighted_f1 = if total == 0 {
            0.0
        } else {
            per_class
                .iter()
                .map(|m| m.f1 * m.support as f64)
                .sum::<f64>()
                / total as f64
        };
        Self {
            accuracy: confusion.accuracy(),
            per_class,
            macro_f1,
            weighted_f1,
            confusion,
        }
    }
}

/// Index of the largest value in each row of a row-major `[rows, cols]` matrix.
pub fn argmax_rows(values: &[f32], cols: usize) -> Vec<usize> {
    values
        .chunks(cols)
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 { (i, v) } else { best }
                })
                .0
        })
        .collect()
}

/// Fraction of rows whose true class is among the `k` highest scores.
pub fn top_k_accuracy(scores: &[f32], cols: usize, actual: &[usize], k: usize) -> f64 {
    if actual.is_empty() {
        return 0.0;
    }
    let hits = scores
        .chunks(cols)
        .zip(actual)
        .filter(|(row, a)| {
            let own = row[**a];
            // Rank = how many classes score strictly higher; ties count in the example's favour.
            row.iter().filter(|&&v| v > own).count() < k
        })
        .count();
    hits as f64 / actual.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-computed: actual [0,0,0,1,1,2], predicted [0,0,1,1,2,2]
    // class 0: tp 2, pred 2, support 3 -> P 1, R 2/3, F1 0.8
    // class 1: tp 1, pred 2, support 2 -> P .5, R .5, F1 .5
    // class 2: tp 1, pred 2, support 1 -> P .5, R 1, F1 2/3
    #[test]
    fn report_matches_hand_computed_values() {
        let cm = ConfusionMatrix::new(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(cm.counts, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        let r = ClassificationReport::from_confusion(cm);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(r.accuracy, 4.0 / 6.0);
        close(r.per_class[0].precision, 1.0);
        close(r.per_class[0].recall, 2.0 / 3.0);
        close(r.per_class[0].f1, 0.8);
        close(r.per_class[1].f1, 0.5);
        close(r.per_class[2].f1, 2.0 / 3.0);
        close(r.macro_f1, (0.8 + 0.5 + 2.0 / 3.0) / 3.0);
        close(r.weighted_f1, (0.8 * 3.0 + 0.5 * 2.0 + 2.0 / 3.0) / 6.0);
    }

    #[test]
    fn top_k_and_argmax() {
        let scores = [0.1, 0.7, 0.2, 0.5, 0.3, 0.2];
        assert_eq!(argmax_rows(&scores, 3), vec![1, 0]);
        assert_eq!(top_k_accuracy(&scores, 3, &[2, 2], 1), 0.0);
        assert_eq!(top_k_accuracy(&scores, 3, &[2, 2], 2), 0.5);
    }
}
