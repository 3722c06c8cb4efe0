//! The host-memory inference plans for burn's CPU device, one per kind of backbone: a ConvNet's
//! leading blocks (`cpu_convnet`) and a whole BERT encoder (`cpu_encoder`).

use burn::tensor::Device;

use super::{Activations, Backbone, CpuConvPlan, CpuEncoderPlan};
use crate::data::image::Preprocess;

/// Inference on host memory through a backbone's blocks that do not train.
pub enum CpuPlan {
    ConvNet(CpuConvPlan),
    Encoder(CpuEncoderPlan),
}

impl CpuPlan {
    /// The plan's output for `batch` flat example rows (as `Backbone::input` takes them), on
    /// `device`.
    pub fn forward(&self, rows: &[f32], batch: usize, device: &Device) -> Activations {
        match self {
            Self::ConvNet(plan) => plan.forward(rows, batch, device),
            Self::Encoder(plan) => plan.forward(rows, batch, device),
        }
    }

    /// The same output in host memory: the values, example after example, and one example's
    /// shape.
    pub fn forward_host(&self, rows: &[f32], batch: usize) -> (Vec<f32>, Vec<usize>) {
        match self {
            Self::ConvNet(plan) => plan.forward_host(rows, batch),
            Self::Encoder(plan) => plan.forward_host(rows, batch),
        }
    }
}

impl Backbone {
    /// A host-memory plan for inference through blocks `0..blocks`, where one applies on burn's
    /// CPU device: a ConvNet's leading blocks, or a BERT encoder's every block (its pooled
    /// embedding). Build it once while those blocks do not train.
    pub fn cpu_plan(&self, blocks: usize, device: &Device) -> Option<CpuPlan> {
        if blocks == 0 || device.clone().inner() != Device::flex() {
            return None;
        }
        match self {
            Self::ConvNet(net) => {
                CpuConvPlan::build(net, blocks, Preprocess::imagenet().size).map(CpuPlan::ConvNet)
            }
            Self::Bert(net) if blocks == net.blocks.len() => {
                CpuEncoderPlan::build(net).map(CpuPlan::Encoder)
            }
            _ => None,
        }
    }
}
