//! Calibrated probabilities: the expected calibration error (ECE) of a model's confidences, and
//! temperature scaling (Guo et al. 2017) — one number T that divides the logits, fitted on the
//! validation split by minimising its negative log-likelihood. Dividing by T changes no
//! prediction (the order of the classes stays), only how sure each one says it is.
//!
//! Where the head already puts every validation example in its class, that log-likelihood keeps
//! rising as T shrinks towards 0: there is no best temperature, only the search's lower bound,
//! which makes every probability about 1 (it happened on about half the few-shot image runs of
//! the quality benchmark). Such a split still says something — n right of n — so there T is set
//! to make the mean confidence on it Laplace's rule-of-succession estimate of the accuracy,
//! (n + 1) / (n + 2). Measured against the bound and against leaving T at 1 on the held-out
//! calibration error of five sets (README, Model quality: Calibration).

use serde::{Deserialize, Serialize};

use crate::model::head::{MAX_TEMPERATURE, MIN_TEMPERATURE};

/// Equal-width confidence bins of the ECE (the usual choice, as in Guo et al.).
pub const ECE_BINS: usize = 15;

/// The smallest drop of the validation loss (nats per example) for which a temperature is
/// applied: below it, scaling would only fit the validation split's noise.
const MIN_GAIN: f64 = 1e-3;

/// What calibration did at the end of a run, measured on the validation split it was fitted on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The temperature the logits are divided by (1 when not applied).
    pub temperature: f64,
    /// Whether scaling lowered the validation loss enough to be applied.
    pub applied: bool,
    pub ece_before: f64,
    pub ece_after: f64,
    pub loss_before: f64,
    pub loss_after: f64,
    /// How the temperature was chosen where the validation log-loss could not choose it, or why
    /// none was applied (absent in files from before it was said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether the top class of every row of `logits` is its `actual` class.
fn every_one_right(logits: &[f32], k: usize, actual: &[usize]) -> bool {
    logits.chunks(k).zip(actual).all(|(row, &c)| {
        let top = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        top == Some(c)
    })
}

/// Softmax of each row of `logits` (`k` per row) divided by `temperature`, in f64.
fn probabilities(logits: &[f32], k: usize, temperature: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks(k) {
        let max = row.iter().fold(f64::MIN, |m, &l| m.max(l as f64));
        let exps: Vec<f64> = row
            .iter()
            .map(|&l| ((l as f64 - max) / temperature).exp())
            .collect();
        let sum: f64 = exps.iter().sum();
        out.extend(exps.iter().map(|e| e / sum));
    }
    out
}

/// Mean negative log-likelihood of `actual` under `logits / temperature`.
fn mean_loss(logits: &[f32], k: usize, actual: &[usize], temperature: f64) -> f64 {
    let p = probabilities(logits, k, temperature);
    let total: f64 = actual
        .iter()
        .enumerate()
        .map(|(row, &c)| -(p[row * k + c].max(1e-300)).ln())
        .sum();
    total / actual.len().max(1) as f64
}

/// The expected calibration error of `probabilities` (`k` per row): the examples binned by
/// their top probability, Σ over bins of (bin share) × |accuracy − mean confidence|.
pub fn expected_calibration_error(probabilities: &[f64], k: usize, actual: &[usize]) -> f64 {
    let mut count = [0usize; ECE_BINS];
    let mut confidence = [0.0f64; ECE_BINS];
    let mut correct = [0.0f64; ECE_BINS];
    for (row, &c) in probabilities.chunks(k).zip(actual) {
        let (best, &p) = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &0.0));
        let bin = ((p * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        count[bin] += 1;
        confidence[bin] += p;
        correct[bin] += f64::from(u8::from(best == c));
    }
    let n = actual.len().max(1) as f64;
    (0..ECE_BINS)
        .filter(|&b| count[b] > 0)
        .map(|b| (correct[b] - confidence[b]).abs() / n)
        .sum()
}

/// Fits the temperature on validation `logits` (`k` per row) and `actual` classes: the loss is
/// convex in 1/T, so a golden-section search over 1/T finds its minimum, applied only when it
/// lowers the loss by more than [`MIN_GAIN`]. A split the head gets all right has no minimum:
/// there the temperature matches the mean confidence to the rule of succession (module note).
pub fn calibrate(logits: &[f32], k: usize, actual: &[usize]) -> Calibration {
    let loss_before = mean_loss(logits, k, actual, 1.0);
    let ece = |t: f64| expected_calibration_error(&probabilities(logits, k, t), k, actual);
    let ece_before = ece(1.0);
    let scaled = |temperature: f64, reason: Option<String>| Calibration {
        temperature,
        applied: temperature != 1.0,
        ece_before,
        ece_after: ece(temperature),
        loss_before,
        loss_after: mean_loss(logits, k, actual, temperature),
        reason,
    };
    if every_one_right(logits, k, actual) {
        let n = actual.len();
        let target = (n as f64 + 1.0) / (n as f64 + 2.0);
        let matched = temperature_for_confidence(logits, k, target);
        return scaled(
            matched,
            Some(format!(
                "all {n} validation examples are right, so no temperature fits them best; T = \
                 {matched:.2} makes their mean confidence {:.0} %, the rule of succession's \
                 estimate of the accuracy ({} of {})",
                100.0 * target,
                n + 1,
                n + 2
            )),
        );
    }
    let fitted = best_temperature(logits, k, actual);
    if mean_loss(logits, k, actual, fitted) >= loss_before - MIN_GAIN {
        return scaled(
            1.0,
            Some(format!(
                "scaling would lower the validation log-loss by less than {MIN_GAIN} (T = {fitted:.2})"
            )),
        );
    }
    scaled(fitted, None)
}

/// Mean top probability of `logits` (`k` per row) divided by `temperature`.
fn mean_confidence(logits: &[f32], k: usize, temperature: f64) -> f64 {
    let p = probabilities(logits, k, temperature);
    let tops: Vec<f64> = p
        .chunks(k.max(1))
        .map(|row| row.iter().fold(0.0f64, |m, &q| m.max(q)))
        .collect();
    tops.iter().sum::<f64>() / tops.len().max(1) as f64
}

/// The temperature between the bounds whose mean top probability is `target` (it falls as T
/// rises: bisection on ln T), or the bound nearest to it.
fn temperature_for_confidence(logits: &[f32], k: usize, target: f64) -> f64 {
    let (mut lo, mut hi) = (MIN_TEMPERATURE.ln(), MAX_TEMPERATURE.ln());
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        match mean_confidence(logits, k, mid.exp()) > target {
            true => lo = mid,
            false => hi = mid,
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// The temperature between [`MIN_TEMPERATURE`] and [`MAX_TEMPERATURE`] of the least mean loss.
fn best_temperature(logits: &[f32], k: usize, actual: &[usize]) -> f64 {
    let loss = |inverse: f64| mean_loss(logits, k, actual, 1.0 / inverse);
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (1.0 / MAX_TEMPERATURE, 1.0 / MIN_TEMPERATURE);
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut fa, mut fb) = (loss(a), loss(b));
    for _ in 0..60 {
        if fa < fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - ratio * (hi - lo);
            fa = loss(a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + ratio * (hi - lo);
            fb = loss(b);
        }
    }
    2.0 / (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Logits whose softmax is calibrated by construction: each example's class is drawn from
    /// the probabilities the logits give.
    fn calibrated_set(n: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let mut logits = Vec::new();
        let mut actual = Vec::new();
        for _ in 0..n {
            let row: Vec<f32> = (0..k).map(|_| rng.normal() * 2.0).collect();
            let p = probabilities(&row, k, 1.0);
            let u = rng.next_f32() as f64;
            let mut acc = 0.0;
            let class = p.iter().position(|&q| {
                acc += q;
                u < acc
            });
            actual.push(class.unwrap_or(k - 1));
            logits.extend(row);
        }
        (logits, actual)
    }

    #[test]
    fn an_over_confident_model_is_cooled_and_a_calibrated_one_left_alone() {
        let (logits, actual) = calibrated_set(4000, 4, 1);
        let fine = calibrate(&logits, 4, &actual);
        assert!(!fine.applied && fine.temperature == 1.0, "{fine:?}");
        assert!(fine.ece_before < 0.03, "{fine:?}");
        // The same model, three times as sure of itself.
        let hot: Vec<f32> = logits.iter().map(|l| l * 3.0).collect();
        let cooled = calibrate(&hot, 4, &actual);
        assert!(cooled.applied, "{cooled:?}");
        assert!((cooled.temperature - 3.0).abs() < 0.3, "{cooled:?}");
        assert!(cooled.ece_after < cooled.ece_before / 3.0, "{cooled:?}");
        assert!(cooled.loss_after < cooled.loss_before);
    }

    #[test]
    fn a_split_the_head_gets_all_right_is_as_sure_as_the_rule_of_succession() {
        // Three examples, each right: the loss falls as T shrinks, without end. The temperature
        // makes the mean confidence 4/5 instead — sharper for unsure logits, cooler for sure ones.
        for (scale, sharper) in [(0.2f32, true), (5.0, false)] {
            let logits: Vec<f32> = [2.0f32, 0.0, 0.0, 1.0, 3.0, -1.0]
                .iter()
                .map(|l| l * scale)
                .collect();
            let c = calibrate(&logits, 2, &[0, 1, 0]);
            assert!(c.applied && (c.temperature < 1.0) == sharper, "{c:?}");
            let confidence = mean_confidence(&logits, 2, c.temperature);
            assert!((confidence - 0.8).abs() < 1e-6, "{confidence} {c:?}");
            assert!(c.reason.as_deref().unwrap_or("").contains("all 3"), "{c:?}");
        }
        // One of them wrong (the second): the loss has a minimum, at a cooler temperature.
        let logits = [2.0, 0.0, 0.0, 1.0, 3.0, -1.0];
        let fitted = calibrate(&logits, 2, &[0, 0, 0]);
        assert!(fitted.applied && fitted.temperature > 1.0, "{fitted:?}");
        assert!(fitted.reason.is_none() && fitted.loss_after < fitted.loss_before);
    }

    #[test]
    fn the_ece_of_a_small_case_by_hand() {
        // Two examples at confidence 0.9 (one right), one at 0.6 (right):
        // bin of 0.9: |1/2 − 0.9| × 2/3; bin of 0.6: |1 − 0.6| × 1/3.
        let p = [0.9, 0.1, 0.9, 0.1, 0.4, 0.6];
        let ece = expected_calibration_error(&p, 2, &[0, 1, 1]);
        let expected = 0.4 * 2.0 / 3.0 + 0.4 / 3.0;
        assert!((ece - expected).abs() < 1e-12, "{ece} vs {expected}");
        use crate::model::head::valid_temperature;
        assert!(valid_temperature(1.0) && !valid_temperature(0.0) && !valid_temperature(f64::NAN));
    }
}
