//! Contrastive fine-tuning (`fine_tune_loss: contrastive`): the first epoch is the probe, the
//! blocks learn from pairs (features of one class drawn together, of different classes apart),
//! the head is the solved logistic regression on the features after every epoch, and the runs it
//! cannot make are refused by name.

mod common;

use burn::module::Module;
use common::{Jitter, fit, overlapping, params, trainer};
use kindling::config::{FineTuneLoss, HeadConfig, Strategy, TrainConfig};
use kindling::data::Dataset;
use kindling::train::TrainingRun;
use kindling::train::run::StopReason;

fn contrastive() -> TrainConfig {
    TrainConfig {
        strategy: Strategy::Full,
        fine_tune_loss: FineTuneLoss::Contrastive,
        learning_rate: 1e-2,
        backbone_lr_multiplier: 1.0,
        batch_size: 16,
        epochs: 6,
        early_stopping: None,
        calibrate: false,
        ..TrainConfig::default()
    }
}

/// Every example's pooled features under the run's current backbone, `[n][dim]`.
fn features(t: &TrainingRun, data: &Dataset) -> Vec<Vec<f32>> {
    let backbone = t.model().valid().backbone;
    let rows: Vec<f32> = (0..data.len()).flat_map(|i| data.row(i).to_vec()).collect();
    let device = t.device().clone().without_autodiff();
    let values = backbone
        .infer(rows, data.len(), &device)
        .into_features()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let dim = values.len() / data.len();
    values.chunks(dim).map(<[f32]>::to_vec).collect()
}

/// Mean cosine similarity of training pairs of one class minus that of pairs of two classes.
fn separation(t: &TrainingRun, data: &Dataset) -> f64 {
    let f = features(t, data);
    let unit: Vec<Vec<f64>> = f
        .iter()
        .map(|v| {
            let norm = v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            v.iter().map(|x| *x as f64 / norm).collect()
        })
        .collect();
    let train = &t.split().train;
    let (mut same, mut same_n, mut other, mut other_n) = (0.0, 0, 0.0, 0);
    for (a, &i) in train.iter().enumerate() {
        for &j in &train[a + 1..] {
            let cos: f64 = unit[i].iter().zip(&unit[j]).map(|(x, y)| x * y).sum();
            if data.labels()[i] == data.labels()[j] {
                (same, same_n) = (same + cos, same_n + 1);
            } else {
                (other, other_n) = (other + cos, other_n + 1);
            }
        }
    }
    same / same_n as f64 - other / other_n as f64
}

/// The largest component of the logistic regression's gradient (scikit-learn's objective scaled
/// by 1 / (C·n), C = 1) at the run's head, on the run's own current features, in f64.
fn largest_gradient(t: &TrainingRun, data: &Dataset) -> f64 {
    let f = features(t, data);
    let dim = f[0].len();
    let p = params(t);
    let find = |suffix: &str| {
        p.iter()
            .find(|(n, _)| n.ends_with(suffix))
            .unwrap()
            .1
            .clone()
    };
    let (weight, bias) = (find("head.layers.0.weight"), find("head.layers.0.bias"));
    let k = bias.len();
    let train = &t.split().train;
    let n = train.len() as f64;
    let mut grad = vec![0.0f64; dim * k + k];
    for &i in train {
        let logits: Vec<f64> = (0..k)
            .map(|c| {
                bias[c] as f64
                    + (0..dim)
                        .map(|j| f[i][j] as f64 * weight[j * k + c] as f64)
                        .sum::<f64>()
            })
            .collect();
        let max = logits.iter().cloned().fold(f64::MIN, f64::max);
        let z: f64 = logits.iter().map(|l| (l - max).exp()).sum();
        for c in 0..k {
            let target = if c == data.labels()[i] { 1.0 } else { 0.0 };
            let r = ((logits[c] - max).exp() / z - target) / n;
            grad[dim * k + c] += r;
            for j in 0..dim {
                grad[j * k + c] += r * f[i][j] as f64;
            }
        }
    }
    for (g, w) in grad.iter_mut().zip(&weight) {
        *g += *w as f64 / n;
    }
    grad.iter().fold(0.0, |m, g| m.max(g.abs()))
}

#[test]
fn pairs_draw_classes_apart_and_the_head_is_solved_after_every_epoch() {
    // Separable classes: the pretrained (random) toy backbone's features already tell them apart,
    // yet the cosine similarities within and across classes are close; pairs pull them to 1 and 0.
    let data = common::separable(20, 7);
    // The first epoch is the probe: the frozen backbone's solved head, scored the same.
    let mut frozen = trainer(TrainConfig::default(), data.clone());
    fit(&mut frozen);
    let solved = frozen.history().last().unwrap().val_accuracy;

    let mut t = trainer(contrastive(), data.clone());
    let before = separation(&t, &data);
    let history = fit(&mut t);
    assert_eq!(history.len(), 6);
    assert_eq!(t.stop_reason(), Some(&StopReason::Completed));
    assert_eq!(history[0].val_accuracy, solved);
    let after = separation(&t, &data);
    println!("separation of the classes' features: {before:.3} pretrained, {after:.3} after pairs");
    assert!(
        after > before + 0.5,
        "pairs did not draw the classes apart: {before:.3} → {after:.3}"
    );
    // The features the head sees separate better, so the solved head fits the training split
    // better than the probe did.
    assert!(
        history[5].train_loss < history[0].train_loss / 2.0,
        "{history:#?}"
    );
    // The last epoch's head is the optimum on the last epoch's features, not a gradient step.
    let largest = largest_gradient(&t, &data);
    assert!(largest < 1e-4, "largest gradient component {largest}");
    // Contrastive epochs report the blocks' schedule (constant here), not the solver's step.
    assert!(
        (history[3].learning_rate - 1e-2).abs() < 1e-12,
        "{history:#?}"
    );
    assert_eq!(history[3].block_learning_rates.len(), 3);

    // The same seed gives the same run.
    let mut again = trainer(contrastive(), data.clone());
    fit(&mut again);
    assert_eq!(params(&again), params(&t));
}

#[test]
fn a_contrastive_run_that_cannot_solve_its_head_is_refused_by_name() {
    let with_hidden = TrainConfig {
        head: HeadConfig {
            hidden: vec![8],
            ..HeadConfig::default()
        },
        ..contrastive()
    };
    let err = with_hidden.validate(3).unwrap_err().to_string();
    assert!(
        err.contains("fine_tune_loss") && err.contains("hidden"),
        "{err}"
    );
    // With a frozen backbone nothing fine-tunes: the run is the default's solved head.
    let frozen = TrainConfig {
        strategy: Strategy::FeatureExtraction,
        epochs: 20,
        ..contrastive()
    };
    let mut t = trainer(frozen, overlapping(10, 8));
    fit(&mut t);
    assert!(
        matches!(t.stop_reason(), Some(StopReason::Converged { .. })),
        "{:?}",
        t.stop_reason()
    );
    let err = TrainConfig::from_json(r#"{"fine_tune_loss": "triplet"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("contrastive"), "{err}");

    let data = overlapping(10, 8);
    let mut t = trainer(contrastive(), data.clone());
    t.set_augmenter(Some(Box::new(Jitter(data))));
    let err = pollster::block_on(t.fit()).unwrap_err().to_string();
    assert!(
        err.contains("fine_tune_loss") && err.contains("augments"),
        "{err}"
    );
    assert!(t.history().is_empty());
}
