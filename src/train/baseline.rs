//! Baselines that need no training, scored on the validation split: a nearest-centroid and a
//! k-nearest-neighbour classifier on the frozen backbone's features. Fine-tuning is judged by how
//! many points it adds to them.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::Split;
use crate::error::{Error, Result};

/// Validation accuracy of the two baselines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    pub nearest_centroid: f64,
    pub knn: f64,
    /// The neighbours `knn` voted with.
    pub k: usize,
}

impl Baselines {
    /// The baselines of one split, or their mean over several (the folds of k-fold); `None`
    /// for none.
    pub fn mean(splits: &[Baselines]) -> Option<Baselines> {
        let first = splits.first()?;
        let n = splits.len() as f64;
        Some(Baselines {
            nearest_centroid: splits.iter().map(|b| b.nearest_centroid).sum::<f64>() / n,
            knn: splits.iter().map(|b| b.knn).sum::<f64>() / n,
            k: first.k,
        })
    }
}

/// Neighbours in the k-NN vote.
pub const KNN_K: usize = 5;

/// Validation rows per matrix product: 256 × 8,500 training rows of distances is 8.7 MB.
const CHUNK: usize = 256;

fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum()
}

fn squared_norm(a: &[f32]) -> f32 {
    a.iter().map(|x| x * x).sum()
}

/// Both baselines for `features` (`dim` values per example, all examples) with `labels`
/// (class indices below `classes`), trained on `split.train`, scored on `split.validation`.
///
/// The k-NN distances come from one matrix product per chunk of validation rows (‖a‖² + ‖b‖² −
/// 2·a·b on burn's CPU device): example by example it took 14 s for 10,000 examples of 1,280
/// values natively, as a product it takes about a second.
pub async fn baselines(
    features: &[f32],
    dim: usize,
    labels: &[usize],
    classes: usize,
    split: &Split,
) -> Result<Baselines> {
    let row = |i: usize| &features[i * dim..(i + 1) * dim];
    // Class means of the training examples (a class without any scores no example).
    let mut sums = vec![vec![0.0f64; dim]; classes];
    let mut counts = vec![0usize; classes];
    for &i in &split.train {
        counts[labels[i]] += 1;
        for (s, &v) in sums[labels[i]].iter_mut().zip(row(i)) {
            *s += f64::from(v);
        }
    }
    let centroids: Vec<Option<Vec<f32>>> = sums
        .into_iter()
        .zip(&counts)
        .map(|(s, &n)| (n > 0).then(|| s.iter().map(|v| (v / n as f64) as f32).collect()))
        .collect();
    let nearest_centroid = |i: usize| {
        centroids
            .iter()
            .enumerate()
            .filter_map(|(c, m)| m.as_ref().map(|m| (c, squared_distance(row(i), m))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c)
    };
    let k = KNN_K.min(split.train.len()).max(1);
    let device = Device::flex();
    let train_rows: Vec<f32> = split.train.iter().flat_map(|&j| row(j).to_vec()).collect();
    let train_norms: Vec<f32> = split.train.iter().map(|&j| squared_norm(row(j))).collect();
    let n_train = split.train.len();
    let train_t: Tensor<2> =
        Tensor::from_data(TensorData::new(train_rows, [n_train, dim]), &device).transpose();
    let mut knn_right = 0usize;
    for chunk in split.validation.chunks(CHUNK) {
        let rows: Vec<f32> = chunk.iter().flat_map(|&i| row(i).to_vec()).collect();
        let products = Tensor::<2>::from_data(TensorData::new(rows, [chunk.len(), dim]), &device)
            .matmul(train_t.clone())
            .into_data_async()
            .await
            .map_err(|e| Error::device("reading the baseline's distances failed", e))?
            .try_into_vec_as::<f32>()
            .map_err(|e| Error::device("reading the baseline's distances failed", e))?;
        for (r, &i) in chunk.iter().enumerate() {
            let own = squared_norm(row(i));
            let mut near: Vec<(f32, usize)> = products[r * n_train..(r + 1) * n_train]
                .iter()
                .zip(&train_norms)
                .zip(&split.train)
                .map(|((p, n), &j)| (own + n - 2.0 * p, labels[j]))
                .collect();
            if near.len() > k {
                near.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
                near.truncate(k);
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut votes = vec![0usize; classes];
            for &(_, c) in &near {
                votes[c] += 1;
            }
            // The most votes; a tie goes to the class of the nearest tied neighbour.
            let best = votes.iter().copied().max().unwrap_or(0);
            if near.iter().map(|&(_, c)| c).find(|&c| votes[c] == best) == Some(labels[i]) {
                knn_right += 1;
            }
        }
    }
    let validation = split.validation.len().max(1) as f64;
    let centroid_right = split
        .validation
        .iter()
        .filter(|&&i| nearest_centroid(i) == Some(labels[i]))
        .count();
    Ok(Baselines {
        nearest_centroid: centroid_right as f64 / validation,
        knn: knn_right as f64 / validation,
        k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_baselines_match_hand_computed_values() {
        // 1-D features. Class 0 at 0, 1, 2 (mean 1); class 1 at 10, 11 (mean 10.5) and an
        // outlier at 3 (mean (10 + 11 + 3) / 3 = 8).
        let features = [0.0, 1.0, 2.0, 10.0, 11.0, 3.0, 4.0, 5.5, 9.0, 2.5];
        let labels = [0, 0, 0, 1, 1, 1, 0, 1, 1, 1];
        let split = Split {
            train: vec![0, 1, 2, 3, 4, 5],
            validation: vec![6, 7, 8, 9],
        };
        let b = pollster::block_on(baselines(&features, 1, &labels, 2, &split)).unwrap();
        // Nearest centroid (1 vs 8): 4 → 0 (right), 5.5 → 1 (right: 4.5 vs 2.5), 9 → 1 (right),
        // 2.5 → 0 (wrong).
        assert_eq!(b.nearest_centroid, 0.75);
        // 5-NN of 4: 3, 2, 1, 0 and 10 → votes 0:3, 1:2 → 0 (right). Of 5.5: 3, 2, 1, 10, 0 →
        // 0:3 → 0 (wrong). Of 9: 10, 11, 3, 2, 1 → 1:3 → 1 (right). Of 2.5: 2, 3, 1, 0, 10 →
        // 0:3 → 0 (wrong).
        assert_eq!((b.knn, b.k), (0.5, 5));
    }

    #[test]
    fn ties_go_to_the_nearest_and_tiny_sets_work() {
        // Two training examples: k shrinks to 2; the tie goes to the nearer neighbour.
        let features = [0.0, 1.0, 0.4];
        let labels = [0, 1, 0];
        let split = Split {
            train: vec![0, 1],
            validation: vec![2],
        };
        let b = pollster::block_on(baselines(&features, 1, &labels, 3, &split)).unwrap();
        assert_eq!((b.nearest_centroid, b.knn, b.k), (1.0, 1.0, 2));
    }

    #[test]
    fn the_matrix_product_finds_the_same_neighbours_as_exact_distances() {
        let (n, dim, classes) = (300, 16, 4);
        let mut rng = crate::rng::Rng::new(9);
        let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
        let features: Vec<f32> = (0..n * dim)
            .map(|v| rng.normal() + (labels[v / dim] * (v % dim % 3)) as f32 * 0.3)
            .collect();
        let split = Split {
            train: (0..240).collect(),
            validation: (240..n).collect(),
        };
        let b = pollster::block_on(baselines(&features, dim, &labels, classes, &split)).unwrap();
        // Exact f64 distances, every neighbour sorted.
        let row = |i: usize| &features[i * dim..(i + 1) * dim];
        let right = split
            .validation
            .iter()
            .filter(|&&i| {
                let mut near: Vec<(f64, usize)> = split
                    .train
                    .iter()
                    .map(|&j| (squared_distance(row(i), row(j)), labels[j]))
                    .collect();
                near.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut votes = vec![0; classes];
                near[..KNN_K].iter().for_each(|&(_, c)| votes[c] += 1);
                let best = *votes.iter().max().unwrap();
                near[..KNN_K]
                    .iter()
                    .find(|&&(_, c)| votes[c] == best)
                    .unwrap()
                    .1
                    == labels[i]
            })
            .count();
        assert_eq!(b.knn, right as f64 / 60.0);
        assert!(b.knn > 0.25, "the features carry the class: {b:?}");
    }
}
