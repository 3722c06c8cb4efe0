//! AdamW and SGD (momentum / Nesterov) over parameter paths, with gradient accumulation,
//! global-norm or value clipping, per-parameter learning rates and an L2-SP pull toward the
//! pretrained weights. Written here rather than taken from burn-optim because global-norm
//! clipping, L2-SP and a state that can be read back asynchronously (for checkpoints in the
//! browser) are not available there.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Gradients, Tensor};

use crate::config::{GradClip, OptimizerConfig, TrainConfig};
use crate::model::{Classifier, ParamOwner};

/// Moments of one parameter (flattened), with its own step count for bias correction.
#[derive(Clone, Debug)]
struct Moments {
    steps: u64,
    first: Tensor<1>,
    second: Option<Tensor<1>>,
}

/// The optimiser: settings, per-parameter state, and gradients accumulated since the last step.
#[derive(Clone, Debug)]
pub struct Optimizer {
    kind: OptimizerConfig,
    weight_decay: f64,
    clip: Option<GradClip>,
    l2sp: f64,
    state: HashMap<String, Moments>,
    pending: HashMap<String, Tensor<1>>,
    pending_batches: usize,
}

impl Optimizer {
    pub fn new(config: &TrainConfig) -> Self {
        Self {
            kind: config.optimizer.clone(),
            weight_decay: config.weight_decay,
            clip: config.grad_clip.clone(),
            l2sp: config.l2sp,
            state: HashMap::new(),
            pending: HashMap::new(),
            pending_batches: 0,
        }
    }

    /// Adds this batch's gradients to the pending sum.
    pub fn accumulate(&mut self, model: &Classifier, grads: &Gradients) {
        self.add_gradients(model, grads, None);
        self.batch_added();
    }

    /// Adds gradients recorded on `model` (the run's model or a shard's copy of it: parameters
    /// are matched by path) to the pending sum, without counting a batch. A shard's copy on
    /// another device names the device the sum lives on (`None`: where they are).
    pub fn add_gradients(
        &mut self,
        model: &Classifier,
        grads: &Gradients,
        device: Option<&Device>,
    ) {
        let mut collector = GradCollector {
            path: Vec::new(),
            grads,
            device,
            out: &mut self.pending,
        };
        model.visit(&mut collector);
    }

    /// The pending gradients by path, emptied (for tests that compare them).
    #[cfg(test)]
    pub fn take_pending(&mut self) -> HashMap<String, Tensor<1>> {
        self.pending_batches = 0;
        std::mem::take(&mut self.pending)
    }

    /// Counts one batch whose gradients were added.
    pub fn batch_added(&mut self) {
        self.pending_batches += 1;
    }

    /// Every state tensor by name (`<path>/first`, `<path>/second`) with its step count, for
    /// checkpoints. Taken between steps, when nothing is pending.
    pub fn state(&self) -> Vec<(String, u64, Tensor<1>)> {
        let mut out = Vec::new();
        for (path, m) in &self.state {
            out.push((format!("{path}/first"), m.steps, m.first.clone()));
            if let Some(v) = &m.second {
                out.push((format!("{path}/second"), m.steps, v.clone()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Restores one state tensor saved by [`Optimizer::state`].
    pub fn restore(&mut self, name: &str, steps: u64, value: Tensor<1>) {
        let (path, part) = name.rsplit_once('/').unwrap_or((name, "first"));
        let entry = self
            .state
            .entry(path.to_string())
            .or_insert_with(|| Moments {
                steps,
                first: value.clone(),
                second: None,
            });
        entry.steps = steps;
        if part == "second" {
            entry.second = Some(value);
        } else {
            entry.first = value;
        }
    }

    /// Batches accumulated since the last step.
    pub fn pending_batches(&self) -> usize {
        self.pending_batches
    }

    /// Applies the averaged pending gradients. `lr_of` gives each parameter's rate from its owner;
    /// `anchors` are the pretrained backbone weights for L2-SP.
    pub fn step(
        &mut self,
        model: Classifier,
        lr_of: &dyn Fn(ParamOwner) -> f64,
        anchors: &HashMap<String, Tensor<1>>,
    ) -> Classifier {
        if self.pending_batches == 0 {
            return model;
        }
        let scale = 1.0 / self.pending_batches as f64;
        let mut grads: HashMap<String, Tensor<1>> =
            self.pending.drain().map(|(k, g)| (k, g * scale)).collect();
        self.pending_batches = 0;
        match &self.clip {
            Some(GradClip::Norm { max_norm }) if !grads.is_empty() => {
                // One scale for all gradients, computed on the device (no readback).
                let squares: Vec<Tensor<1>> = grads
                    .values()
                    .map(|g| g.clone().powi_scalar(2).sum())
                    .collect();
                let norm = Tensor::cat(squares, 0).sum().sqrt();
                let factor = (norm + 1e-6).recip().mul_scalar(*max_norm).clamp_max(1.0);
                for g in grads.values_mut() {
                    *g = g.clone() * factor.clone();
                }
            }
            Some(GradClip::Value { value }) => {
                for g in grads.values_mut() {
                    *g = g.clone().clamp(-*value, *value);
                }
            }
            _ => {}
        }
        let mut updater = Updater {
            path: Vec::new(),
            grads,
            optimizer: self,
            lr_of,
            anchors,
        };
        model.map(&mut updater)
    }

    fn update(
        &mut self,
        path: &str,
        w: Tensor<1>,
        mut g: Tensor<1>,
        lr: f64,
        is_matrix: bool,
        anchor: Option<&Tensor<1>>,
    ) -> Tensor<1> {
        if let Some(w0) = anchor {
            // d/dw of (l2sp / 2)·‖w − w0‖²
            g = g + (w.clone() - w0.clone()) * self.l2sp;
        }
        let decay = if is_matrix { self.weight_decay } else { 0.0 };
        match self.kind {
            OptimizerConfig::Adamw {
                beta1,
                beta2,
                epsilon,
            } => {
                let prev = self.state.remove(path);
                let steps = prev.as_ref().map_or(0, |m| m.steps) + 1;
                let (m, v) = match prev {
                    Some(Moments {
                        first,
                        second: Some(second),
                        ..
                    }) => (
                        first * beta1 + g.clone() * (1.0 - beta1),
                        second * beta2 + g.powi_scalar(2) * (1.0 - beta2),
                    ),
                    _ => (g.clone() * (1.0 - beta1), g.powi_scalar(2) * (1.0 - beta2)),
                };
                let m_hat = m.clone() / (1.0 - beta1.powi(steps as i32));
                let v_hat = v.clone() / (1.0 - beta2.powi(steps as i32));
                let w = if decay > 0.0 {
                    w.clone() - w * (lr * decay)
                } else {
                    w
                };
                let w = w - m_hat / (v_hat.sqrt() + epsilon) * lr;
                self.state.insert(
                    path.to_string(),
                    Moments {
                        steps,
                        first: m,
                        second: Some(v),
                    },
                );
                w
            }
            OptimizerConfig::Sgd { momentum, nesterov } => {
                if decay > 0.0 {
                    g = g + w.clone() * decay;
                }
                let direction = if momentum > 0.0 {
                    let prev = self.state.remove(path);
                    let steps = prev.as_ref().map_or(0, |m| m.steps) + 1;
                    let buf = match prev {
                        Some(m) => m.first * momentum + g.clone(),
                        None => g.clone(),
                    };
                    let d = if nesterov {
                        g + buf.clone() * momentum
                    } else {
                        buf.clone()
                    };
                    self.state.insert(
                        path.to_string(),
                        Moments {
                            steps,
                            first: buf,
                            second: None,
                        },
                    );
                    d
                } else {
                    g
                };
                w - direction * lr
            }
        }
    }
}

struct GradCollector<'a> {
    path: Vec<String>,
    grads: &'a Gradients,
    /// Where the pending sum lives, when not where the gradients are.
    device: Option<&'a Device>,
    out: &'a mut HashMap<String, Tensor<1>>,
}

impl ModuleVisitor for GradCollector<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = param.val().grad(self.grads) else {
            return;
        };
        let n = grad.dims().iter().product::<usize>();
        let grad = match self.device {
            Some(device) => grad.reshape([n]).to_device(device),
            None => grad.reshape([n]),
        };
        let path = self.path.join(".");
        let sum = match self.out.remove(&path) {
            Some(prev) => prev + grad,
            None => grad,
        };
        self.out.insert(path, sum);
    }
}

struct Updater<'a> {
    path: Vec<String>,
    grads: HashMap<String, Tensor<1>>,
    optimizer: &'a mut Optimizer,
    lr_of: &'a dyn Fn(ParamOwner) -> f64,
    anchors: &'a HashMap<String, Tensor<1>>,
}

impl ModuleMapper for Updater<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        let Some(grad) = self.grads.remove(&path) else {
            return param;
        };
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        // Kept: every tensor of a run shares its device's gradient-checkpointing strategy.
        let strategy = tensor.gradient_checkpointing_strategy();
        let dims = tensor.dims();
        let w = tensor.inner().reshape([dims.iter().product::<usize>()]);
        let lr = (self.lr_of)(ParamOwner::of(&format!("{path}.")));
        let anchor = if self.optimizer.l2sp > 0.0 {
            self.anchors.get(&path)
        } else {
            None
        };
        let w = self.optimizer.update(&path, w, grad, lr, D >= 2, anchor);
        let mut updated = Tensor::from_inner(w.reshape(dims));
        if let Some(strategy) = strategy {
            updated = updated.with_gradient_checkpointing_strategy(strategy);
        }
        let updated = updated.set_require_grad(require_grad);
        Param::from_mapped_value(id, updated, mapper)
    }
}
