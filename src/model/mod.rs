//! The classifier: a backbone split into blocks plus a head, and the parameter bookkeeping that
//! freezing, per-block learning rates and L2-SP need (which block owns a parameter path). Also
//! what a finished classifier is used for: predictions ([`Predictor`]) and the model file.

pub mod file;
pub mod head;
pub mod param_file;
pub mod predictor;
pub mod product;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

pub use head::Head;
pub use predictor::{Prediction, Predictor, predict};

use crate::backbone::{Activations, Backbone};

#[derive(Module, Debug)]
pub struct Classifier {
    pub backbone: Backbone,
    pub head: Head,
}

/// Who owns a parameter, read from its dotted path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamOwner {
    Head,
    Block(usize),
    /// A backbone parameter outside the numbered blocks (none today; kept frozen).
    BackboneOther,
}

impl ParamOwner {
    pub fn of(path: &str) -> Self {
        if path.starts_with("head.") {
            return Self::Head;
        }
        let mut parts = path.split('.');
        while let Some(part) = parts.next() {
            if part == "blocks"
                && let Some(Ok(i)) = parts.next().map(str::parse)
            {
                return Self::Block(i);
            }
        }
        Self::BackboneOther
    }

    /// Whether this parameter trains when the last `trainable` of `num_blocks` blocks train.
    pub fn trains(self, trainable: usize, num_blocks: usize) -> bool {
        match self {
            Self::Head => true,
            Self::Block(i) => i + trainable >= num_blocks,
            Self::BackboneOther => false,
        }
    }
}

impl Classifier {
    /// Number of leading backbone blocks that are frozen.
    pub fn frozen_prefix(&self, trainable: usize) -> usize {
        self.backbone.num_blocks().saturating_sub(trainable)
    }

    /// Sets which parameters record gradients: the head and the last `trainable` blocks.
    pub fn with_trainable_blocks(self, trainable: usize) -> Self {
        let num_blocks = self.backbone.num_blocks();
        self.map(&mut TrainableMapper {
            path: Vec::new(),
            trainable,
            num_blocks,
        })
    }

    /// Logits from the output of the frozen prefix (`x` = activations after `frozen` blocks).
    pub fn forward_from(
        &self,
        x: Activations,
        frozen: usize,
        masks: Option<&[Tensor<2>]>,
        train: bool,
    ) -> Tensor<2> {
        let n = self.backbone.num_blocks();
        let features = self
            .backbone
            .forward_blocks(x, frozen..n, train)
            .into_features();
        self.head.forward(features, masks)
    }

    /// Every float parameter with its path, flattened (handles, no copy of the data).
    pub fn flat_params(&self) -> Vec<(String, Tensor<1>)> {
        let mut v = FlatParams::default();
        self.visit(&mut v);
        v.out
    }
}

struct TrainableMapper {
    path: Vec<String>,
    trainable: usize,
    num_blocks: usize,
}

impl ModuleMapper for TrainableMapper {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        let trains = ParamOwner::of(&format!("{path}.")).trains(self.trainable, self.num_blocks);
        param.set_require_grad(trains)
    }
}

#[derive(Default)]
struct FlatParams {
    path: Vec<String>,
    out: Vec<(String, Tensor<1>)>,
}

impl ModuleVisitor for FlatParams {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let n = t.dims().iter().product::<usize>();
        self.out.push((self.path.join("."), t.reshape([n])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_read_from_paths() {
        assert_eq!(ParamOwner::of("head.layers.0.weight"), ParamOwner::Head);
        assert_eq!(
            ParamOwner::of("backbone.ToyMlp.blocks.3.linear.bias"),
            ParamOwner::Block(3)
        );
        assert!(ParamOwner::Block(3).trains(1, 4));
        assert!(!ParamOwner::Block(2).trains(1, 4));
    }
}
