#![cfg(not(target_arch = "wasm32"))]
//! The hand-written training numerics against an independent numpy computation
//! (`tests/reference/numerics_reference.py` wrote `tests/fixtures/numerics_reference.json`):
//! AdamW, SGD with momentum and Nesterov, global-norm and value clipping, label smoothing,
//! class-weighted cross-entropy and gradient accumulation. Each case starts a linear head from the
//! fixture's weights, takes two optimiser steps with kindling's own loss and optimiser (as the
//! training run calls them) and compares every loss and every parameter after each step.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::device;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::config::{Balance, GradClip, HeadConfig, OptimizerConfig, TrainConfig};
use kindling::model::param_file::load_params;
use kindling::model::{Classifier, Head, ParamOwner};
use kindling::rng::Rng;
use kindling::train::loss::{cross_entropy_per_example, reduce};
use kindling::train::optimizer::Optimizer;
use serde_json::Value;

/// Allowed |kindling − numpy| ≤ ABS + REL·|numpy|: f32 rounding, with room. The script checks
/// that a float32 rerun stays far inside and that plausible mistakes land far outside.
const ABS: f64 = 1e-5;
const REL: f64 = 1e-4;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn to_f32(v: &Value) -> Vec<f32> {
    floats(v).into_iter().map(|x| x as f32).collect()
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// The fixture's examples (`x` row-major `[examples, features]`), labels, class weights and
/// initial head parameters by path.
struct Problem {
    features: usize,
    classes: usize,
    x: Vec<f32>,
    y: Vec<i64>,
    class_weights: Vec<f32>,
    initial: HashMap<String, Vec<f32>>,
}

impl Problem {
    fn parse(v: &Value) -> Self {
        Self {
            features: v["features"].as_u64().unwrap() as usize,
            classes: v["classes"].as_u64().unwrap() as usize,
            x: to_f32(&v["x"]),
            y: v["y"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_i64().unwrap())
                .collect(),
            class_weights: to_f32(&v["class_weights"]),
            initial: v["initial"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(path, t)| (path.clone(), to_f32(t)))
                .collect(),
        }
    }

    /// A head on given features (a backbone without blocks) holding the fixture's weights.
    fn model(&self, device: &Device) -> Classifier {
        let mut rng = Rng::new(0);
        let spec = BackboneSpec::Features { dim: self.features };
        let backbone = Backbone::build(&spec, &mut rng, device).unwrap();
        assert_eq!(backbone.num_blocks(), 0);
        let head = Head::new(
            &HeadConfig::default(),
            self.features,
            self.classes,
            &mut rng,
            device,
        );
        let model = Classifier { backbone, head }.with_trainable_blocks(0);
        load_params(model, &self.initial, "", &|_| false, device).unwrap()
    }

    /// Per-example and reduced loss of the examples `batch`, as the training run computes them.
    fn loss(
        &self,
        model: &Classifier,
        batch: &[usize],
        config: &TrainConfig,
        device: &Device,
    ) -> (Tensor<1>, Tensor<1>) {
        let n = batch.len();
        let rows: Vec<f32> = batch
            .iter()
            .flat_map(|&i| self.x[i * self.features..(i + 1) * self.features].to_vec())
            .collect();
        let logits = model.forward_from(model.backbone.input(rows, n, device), 0, None, true);
        let labels: Vec<i64> = batch.iter().map(|&i| self.y[i]).collect();
        let weights = (config.balance == Balance::WeightedLoss).then(|| {
            let w: Vec<f32> = labels
                .iter()
                .map(|&c| self.class_weights[c as usize])
                .collect();
            Tensor::<1>::from_data(TensorData::new(w, [n]), device)
        });
        let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), device);
        let per_example = cross_entropy_per_example(logits, targets, config.label_smoothing);
        (per_example.clone(), reduce(per_example, weights))
    }
}

/// One case of the fixture: the training settings (in `TrainConfig`'s own JSON form), the rate,
/// the batches accumulated into each step, and numpy's losses and parameters for every step.
struct Case {
    name: String,
    problem: Problem,
    config: TrainConfig,
    lr: f64,
    batches: Vec<Vec<usize>>,
    steps: Vec<Value>,
}

impl Case {
    fn load(name: &str) -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/numerics_reference.json");
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(fixture["tolerance"]["abs"].as_f64(), Some(ABS));
        assert_eq!(fixture["tolerance"]["rel"].as_f64(), Some(REL));
        let case = &fixture["cases"][name];
        assert!(case.is_object(), "the fixture has no case `{name}`");
        Self {
            name: name.to_string(),
            problem: Problem::parse(&fixture["problem"]),
            config: serde_json::from_value(case["config"].clone()).unwrap(),
            lr: case["lr"].as_f64().unwrap(),
            batches: case["batches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| floats(b).into_iter().map(|i| i as usize).collect())
                .collect(),
            steps: case["steps"].as_array().unwrap().clone(),
        }
    }

    /// Every loss and parameter where kindling and numpy disagree, one line each.
    fn mismatches(&self) -> Vec<String> {
        let device = device();
        let mut model = self.problem.model(&device);
        let mut optimizer = Optimizer::new(&self.config);
        let lr = self.lr;
        let lr_of = |_: ParamOwner| lr;
        let mut errors = Vec::new();
        for (s, want) in self.steps.iter().enumerate() {
            for (b, batch) in self.batches.iter().enumerate() {
                let (per_example, loss) = self.problem.loss(&model, batch, &self.config, &device);
                let expected = &want["losses"][b];
                compare(
                    &format!("step {s} batch {b} per-example loss"),
                    &values(per_example),
                    &expected["per_example"],
                    &mut errors,
                );
                compare(
                    &format!("step {s} batch {b} loss"),
                    &values(loss.clone()),
                    &Value::Array(vec![expected["loss"].clone()]),
                    &mut errors,
                );
                optimizer.accumulate(&model, &loss.backward());
            }
            assert_eq!(optimizer.pending_batches(), self.batches.len());
            model = optimizer.step(model, &lr_of, &HashMap::new());
            let got: HashMap<String, Vec<f32>> = model
                .flat_params()
                .into_iter()
                .map(|(path, t)| (path, values(t)))
                .collect();
            let expected = want["params_after"].as_object().unwrap();
            let mut got_paths: Vec<&String> = got.keys().collect();
            let mut want_paths: Vec<&String> = expected.keys().collect();
            got_paths.sort();
            want_paths.sort();
            if got_paths != want_paths {
                errors.push(format!(
                    "parameters: kindling has {got_paths:?}, numpy {want_paths:?}"
                ));
            }
            for (path, want) in expected {
                if let Some(got) = got.get(path) {
                    compare(&format!("step {s} {path}"), got, want, &mut errors);
                }
            }
        }
        errors
    }

    fn assert_matches_numpy(&self) {
        let errors = self.mismatches();
        assert!(
            errors.is_empty(),
            "{}: {} values differ from numpy (allowed {ABS:e} + {REL:e}·|numpy|):\n{}",
            self.name,
            errors.len(),
            errors.join("\n")
        );
    }
}

fn compare(what: &str, got: &[f32], want: &Value, errors: &mut Vec<String>) {
    let want = floats(want);
    if got.len() != want.len() {
        errors.push(format!(
            "{what}: kindling has {} values, numpy {}",
            got.len(),
            want.len()
        ));
        return;
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let err = (*g as f64 - w).abs();
        // Written so that NaN fails.
        if !(err <= ABS + REL * w.abs()) {
            errors.push(format!(
                "{what}[{i}]: kindling {g}, numpy {w} (off by {err:.2e})"
            ));
        }
    }
}

#[test]
fn adamw_two_steps_with_bias_correction_and_decoupled_decay_on_matrices() {
    let case = Case::load("adamw");
    assert!(matches!(
        case.config.optimizer,
        OptimizerConfig::Adamw { .. }
    ));
    assert!(case.config.weight_decay > 0.0 && case.config.grad_clip.is_none());
    case.assert_matches_numpy();
}

#[test]
fn sgd_with_momentum_two_steps() {
    let case = Case::load("sgd_momentum");
    assert!(matches!(
        case.config.optimizer,
        OptimizerConfig::Sgd {
            nesterov: false,
            ..
        }
    ));
    case.assert_matches_numpy();
}

#[test]
fn sgd_nesterov_two_steps_with_l2_decay_on_matrices() {
    let case = Case::load("sgd_nesterov");
    assert!(matches!(
        case.config.optimizer,
        OptimizerConfig::Sgd { nesterov: true, .. }
    ));
    assert!(case.config.weight_decay > 0.0);
    case.assert_matches_numpy();
}

#[test]
fn adamw_with_global_norm_clipping() {
    let case = Case::load("adamw_clip_norm");
    assert!(matches!(
        case.config.optimizer,
        OptimizerConfig::Adamw { .. }
    ));
    assert!(matches!(case.config.grad_clip, Some(GradClip::Norm { .. })));
    case.assert_matches_numpy();
}

#[test]
fn sgd_with_value_clipping() {
    let case = Case::load("sgd_clip_value");
    assert!(matches!(
        case.config.grad_clip,
        Some(GradClip::Value { .. })
    ));
    case.assert_matches_numpy();
}

#[test]
fn label_smoothing_loss_and_steps() {
    let case = Case::load("label_smoothing");
    assert!(case.config.label_smoothing > 0.0);
    case.assert_matches_numpy();
}

#[test]
fn class_weighted_loss_and_steps() {
    let case = Case::load("class_weighted");
    assert_eq!(case.config.balance, Balance::WeightedLoss);
    case.assert_matches_numpy();
}

#[test]
fn accumulated_batches_are_averaged() {
    let case = Case::load("accumulation");
    assert_eq!(case.batches.len(), case.config.accumulation_steps);
    assert!(case.batches.len() > 1);
    case.assert_matches_numpy();
}

/// The comparison catches a wrong setting: the same data with one choice changed must not match.
#[test]
fn a_changed_setting_is_caught() {
    let mut case = Case::load("adamw");
    case.config.weight_decay = 0.0;
    assert!(
        !case.mismatches().is_empty(),
        "adamw without weight decay matched"
    );
    let mut case = Case::load("sgd_nesterov");
    case.config.optimizer = OptimizerConfig::Sgd {
        momentum: 0.9,
        nesterov: false,
    };
    assert!(
        !case.mismatches().is_empty(),
        "plain momentum matched Nesterov"
    );
}
