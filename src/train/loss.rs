//! Cross-entropy with label smoothing and class weights, per example, so that the same pass gives
//! the training loss and the per-example losses used to find likely mislabelled examples.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Per-example loss `[batch]` of `logits [batch, classes]` against `targets [batch]`.
/// With smoothing ε the target puts 1-ε on the true class and ε/classes everywhere.
pub fn cross_entropy_per_example(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    smoothing: f64,
) -> Tensor<1> {
    let [batch, classes] = logits.dims();
    let log_p = log_softmax(logits, 1);
    let true_class = log_p
        .clone()
        .gather(1, targets.reshape([batch, 1]))
        .reshape([batch]);
    if smoothing <= 0.0 {
        return true_class.neg();
    }
    let uniform = log_p.sum_dim(1).reshape([batch]) / classes as f64;
    (true_class * (1.0 - smoothing) + uniform * smoothing).neg()
}

/// Mean loss, each example weighted by its class's weight (`weights [batch]`), or plain mean.
pub fn reduce(per_example: Tensor<1>, weights: Option<Tensor<1>>) -> Tensor<1> {
    match weights {
        Some(w) => (per_example * w.clone()).sum() / w.sum(),
        None => per_example.mean(),
    }
}
