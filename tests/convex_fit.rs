//! The convex fit of a linear head (`head_fit`): the head it returns is checked against the
//! optimality condition of the logistic regression, computed here on the host in f64 from the
//! run's own frozen features — independently of the solver.

mod common;

use common::{CLASSES, Jitter, fit, overlapping, params, trainer};
use kindling::config::{Balance, HeadConfig, HeadFit, HeadInit, Strategy, TrainConfig};
use kindling::data::Dataset;
use kindling::train::TrainingRun;
use kindling::train::run::StopReason;

/// The objective the convex fit minimises and its gradient's largest component, in f64 on the
/// host: C·Σ w_i CE_i + ½‖W‖² scaled by 1 / (C·Σ w_i), as scikit-learn writes it.
fn objective(t: &mut TrainingRun, data: &Dataset, c: f64, class_weight: &[f64]) -> (f64, f64) {
    let (features, dim) = pollster::block_on(t.frozen_features()).unwrap().unwrap();
    let p = params(t);
    let weight = &p
        .iter()
        .find(|(n, _)| n.ends_with("head.layers.0.weight"))
        .unwrap()
        .1;
    let bias = &p
        .iter()
        .find(|(n, _)| n.ends_with("head.layers.0.bias"))
        .unwrap()
        .1;
    let k = bias.len();
    let labels: Vec<usize> = t.split().train.iter().map(|&i| data.labels()[i]).collect();
    let weight_sum: f64 = labels.iter().map(|&y| class_weight[y]).sum();
    let mut value = 0.0;
    let mut grad_w = vec![0.0f64; dim * k];
    let mut grad_b = vec![0.0f64; k];
    for (row, &i) in t.split().train.iter().enumerate() {
        let x = &features[i * dim..(i + 1) * dim];
        let logits: Vec<f64> = (0..k)
            .map(|c| {
                bias[c] as f64
                    + (0..dim)
                        .map(|j| x[j] as f64 * weight[j * k + c] as f64)
                        .sum::<f64>()
            })
            .collect();
        let max = logits.iter().cloned().fold(f64::MIN, f64::max);
        let log_z = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
        let s = class_weight[labels[row]] / weight_sum;
        value -= s * (logits[labels[row]] - log_z);
        for c in 0..k {
            let r = s * ((logits[c] - log_z).exp() - if c == labels[row] { 1.0 } else { 0.0 });
            grad_b[c] += r;
            for j in 0..dim {
                grad_w[j * k + c] += r * x[j] as f64;
            }
        }
    }
    let l2 = 1.0 / (c * weight_sum);
    value += l2 / 2.0 * weight.iter().map(|&w| (w as f64).powi(2)).sum::<f64>();
    for (g, &w) in grad_w.iter_mut().zip(weight.iter()) {
        *g += l2 * w as f64;
    }
    let largest = grad_w
        .iter()
        .chain(&grad_b)
        .fold(0.0f64, |m, g| m.max(g.abs()));
    (value, largest)
}

#[test]
fn the_default_head_is_the_optimum_of_its_logistic_regression() {
    for (c, balance) in [(1.0, Balance::None), (0.05, Balance::WeightedLoss)] {
        // Unequal classes, so the class weights matter.
        let mut data = overlapping(40, 3);
        for i in 0..20 {
            data.add(&[0.1 * i as f32; common::DIM], "class0").unwrap();
        }
        let config = TrainConfig {
            convex_c: c,
            balance,
            ..TrainConfig::default()
        };
        let class_weight: Vec<f64> = match balance {
            Balance::WeightedLoss => {
                let counts = data.class_counts();
                let n: usize = counts.iter().sum();
                counts
                    .iter()
                    .map(|&k| n as f64 / (CLASSES as f64 * k as f64))
                    .collect()
            }
            _ => vec![1.0; CLASSES],
        };
        let mut convex = trainer(config.clone(), data.clone());
        let history = fit(&mut convex);
        let Some(StopReason::Converged { iterations, epoch }) = convex.stop_reason().cloned()
        else {
            panic!(
                "the default fit should converge: {:?}",
                convex.stop_reason()
            );
        };
        assert!(
            iterations < 200 && epoch + 1 == history.len(),
            "{iterations} {epoch}"
        );
        assert!(
            history
                .last()
                .unwrap()
                .stopped
                .as_deref()
                .unwrap()
                .contains("L-BFGS")
        );
        let (value, largest) = objective(&mut convex, &data, c, &class_weight);
        assert!(
            largest < 2e-5,
            "C {c}: the gradient at the fit is {largest}, not ~0"
        );

        // The same problem trained by epochs of Adam ends higher on the same objective.
        let mut epochs = trainer(
            TrainConfig {
                head_fit: HeadFit::Epochs,
                early_stopping: None,
                ..config
            },
            data.clone(),
        );
        fit(&mut epochs);
        let (adam_value, _) = objective(&mut epochs, &data, c, &class_weight);
        assert!(
            value <= adam_value + 1e-6,
            "convex {value} vs Adam {adam_value}"
        );
    }
}

#[test]
fn auto_solves_only_the_convex_problem_and_convex_is_refused_elsewhere() {
    let data = overlapping(20, 4);
    let mlp = TrainConfig {
        head: HeadConfig {
            hidden: vec![8],
            ..HeadConfig::default()
        },
        epochs: 3,
        ..TrainConfig::default()
    };
    let mut t = trainer(mlp.clone(), data.clone());
    fit(&mut t);
    assert!(!matches!(
        t.stop_reason(),
        Some(StopReason::Converged { .. })
    ));

    let err = TrainConfig {
        head_fit: HeadFit::Convex,
        ..mlp
    }
    .validate(3)
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("head_fit") && err.contains("hidden layers"),
        "{err}"
    );

    // Augmentation is not part of the config: the first step refuses it.
    let mut t = trainer(
        TrainConfig {
            head_fit: HeadFit::Convex,
            ..TrainConfig::default()
        },
        data.clone(),
    );
    t.set_augmenter(Some(Box::new(Jitter(data))));
    let err = pollster::block_on(t.fit()).unwrap_err().to_string();
    assert!(
        err.contains("head_fit") && err.contains("augments"),
        "{err}"
    );

    let err = TrainConfig {
        convex_c: 0.0,
        ..TrainConfig::default()
    }
    .validate(3)
    .unwrap_err()
    .to_string();
    assert!(err.contains("convex_c"), "{err}");
}

#[test]
fn a_convex_fit_resumed_from_a_checkpoint_reaches_the_same_optimum() {
    let data = overlapping(30, 5);
    let config = TrainConfig {
        epochs: 40,
        ..TrainConfig::default()
    };
    let mut whole = trainer(config.clone(), data.clone());
    fit(&mut whole);
    let mut first = trainer(config, data.clone());
    pollster::block_on(first.run_epoch()).unwrap();
    let bytes = pollster::block_on(first.checkpoint()).unwrap();
    let device = common::device();
    let mut resumed =
        TrainingRun::from_checkpoint(&bytes, common::toy_backbone(&device), data, None, &device)
            .unwrap();
    fit(&mut resumed);
    assert!(matches!(
        resumed.stop_reason(),
        Some(StopReason::Converged { .. })
    ));
    let (a, b) = (params(&whole), params(&resumed));
    let head = |p: &[(String, Vec<f32>)]| -> Vec<f32> {
        p.iter()
            .filter(|(n, _)| n.contains("head"))
            .flat_map(|(_, v)| v.clone())
            .collect()
    };
    // Softmax ignores a shift shared by every bias, so compare the weights and the centred biases.
    let centre = |v: Vec<f32>, k: usize| -> Vec<f32> {
        let (w, b) = v.split_at(v.len() - k);
        let mean = b.iter().sum::<f32>() / k as f32;
        w.iter()
            .cloned()
            .chain(b.iter().map(|x| x - mean))
            .collect()
    };
    for (x, y) in centre(head(&a), CLASSES)
        .iter()
        .zip(centre(head(&b), CLASSES))
    {
        assert!((x - y).abs() < 2e-3, "{x} vs {y}");
    }
}

/// The head's weight and bias, read back.
fn head_of(t: &TrainingRun) -> Vec<f32> {
    params(t)
        .into_iter()
        .filter(|(n, _)| n.contains("head."))
        .flat_map(|(_, v)| v)
        .collect()
}

#[test]
fn a_probe_solves_the_head_on_the_whole_backbone_before_blocks_train() {
    let data = overlapping(20, 6);
    // The optimum on the pretrained backbone's features: the solved head of a frozen run.
    let mut frozen = trainer(TrainConfig::default(), data.clone());
    fit(&mut frozen);
    assert!(matches!(
        frozen.stop_reason(),
        Some(StopReason::Converged { .. })
    ));

    let probing = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 2,
        },
        head_init: HeadInit::Probe,
        learning_rate: 1e-3,
        epochs: 4,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut t = trainer(probing.clone(), data.clone());
    let probe = pollster::block_on(t.run_epoch()).unwrap();
    // The first epoch is the probe: the same optimum, though the cache it starts from stops two
    // blocks earlier and the blocks run forward here.
    let (solved, probed) = (head_of(&frozen), head_of(&t));
    let largest = solved.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (a, b) in solved.iter().zip(&probed) {
        assert!((a - b).abs() <= 1e-3 * largest, "{a} vs {b}");
    }
    assert_eq!(probe.trainable_blocks, 2);
    // Then the blocks train (the run does not end at the probe's convergence) and move.
    let before: Vec<(String, Vec<f32>)> = params(&t);
    let history = fit(&mut t);
    assert_eq!(history.len(), 4);
    assert_eq!(t.stop_reason(), Some(&StopReason::Completed));
    let moved = params(&t)
        .iter()
        .zip(&before)
        .filter(|((n, after), (_, was))| n.contains("backbone") && after != was)
        .count();
    assert!(moved > 0, "no backbone parameter trained after the probe");

    // A probe needs a linear head, and examples whose features are cached.
    let err = TrainConfig {
        head: HeadConfig {
            hidden: vec![8],
            ..HeadConfig::default()
        },
        ..probing.clone()
    }
    .validate(3)
    .unwrap_err()
    .to_string();
    assert!(err.contains("head_init") && err.contains("hidden"), "{err}");
    let mut t = trainer(probing, data.clone());
    t.set_augmenter(Some(Box::new(Jitter(data))));
    let err = pollster::block_on(t.fit()).unwrap_err().to_string();
    assert!(
        err.contains("head_init") && err.contains("augments"),
        "{err}"
    );
    assert!(t.history().is_empty());
}
