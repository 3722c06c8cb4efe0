//! Reading pretrained weights from safetensors bytes (works in the browser and natively), with
//! errors that say which tensor is missing or has the wrong shape or type, and what was expected.

use std::collections::HashSet;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::init::{he_bound, uniform_param};
use crate::rng::Rng;

/// A parsed safetensors file, for one architecture (named in errors).
pub struct WeightFile<'a> {
    file: SafeTensors<'a>,
    architecture: &'static str,
    /// A prefix found on every name (e.g. `bert.`), stripped when matching.
    prefix: String,
    used: HashSet<String>,
}

impl<'a> WeightFile<'a> {
    /// Parses `bytes`; `probe` is a tensor name every file of this architecture has, used to find
    /// an optional prefix (`model.`, `bert.`, …) and to reject files of other architectures early.
    pub fn parse(bytes: &'a [u8], architecture: &'static str, probe: &str) -> Result<Self> {
        let file = SafeTensors::deserialize(bytes).map_err(|e| {
            Error::Weights(format!(
                "this is not a readable safetensors file ({e}); expected {architecture} weights in safetensors format"
            ))
        })?;
        let names = file.names();
        let Some(found) = names.iter().find(|n| n.ends_with(probe)) else {
            let mut sample: Vec<String> = names.iter().take(3).map(|s| s.to_string()).collect();
            sample.sort_unstable();
            return Err(Error::Weights(format!(
                "this file has no `{probe}`, so it is not {architecture} weights (its tensors start with: {})",
                if sample.is_empty() {
                    "nothing — the file is empty".into()
                } else {
                    sample.join(", ")
                }
            )));
        };
        let prefix = found[..found.len() - probe.len()].to_string();
        Ok(Self {
            file,
            architecture,
            prefix,
            used: HashSet::new(),
        })
    }

    /// The shape of tensor `name`, if present.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.file
            .tensor(&format!("{}{name}", self.prefix))
            .ok()
            .map(|v| v.shape().to_vec())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.file.tensor(&format!("{}{name}", self.prefix)).is_ok()
    }

    /// The values of tensor `name` as f32, after checking its shape.
    pub fn values(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let full = format!("{}{name}", self.prefix);
        let view = self.file.tensor(&full).map_err(|_| {
            Error::Weights(format!(
                "tensor `{full}` is missing; this file does not look like {} weights of the expected size",
                self.architecture
            ))
        })?;
        if view.shape() != shape {
            return Err(Error::Weights(format!(
                "tensor `{full}` has shape {:?} but {} expects {shape:?}; the file is for a different model or size",
                view.shape(),
                self.architecture
            )));
        }
        let bytes = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(Error::Weights(format!(
                    "tensor `{full}` is stored as {other:?}; kindling reads F32, F16 or BF16"
                )));
            }
        };
        self.used.insert(full);
        Ok(values)
    }
}

/// Where a module's parameters come from: a weight file, or seeded random values.
pub enum Init<'f, 'a> {
    Random(&'f mut Rng),
    File(&'f mut WeightFile<'a>),
}

impl Init<'_, '_> {
    /// A trainable parameter: `name` in the file, or random (He) with the given fan-in.
    pub fn param<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        fan_in: usize,
        device: &Device,
    ) -> Result<Param<Tensor<D>>> {
        match self {
            Init::Random(rng) => Ok(uniform_param(shape, he_bound(fan_in), rng, device)),
            Init::File(file) => {
                let values = file.values(name, &shape)?;
                Ok(Param::from_tensor(Tensor::from_data(
                    TensorData::new(values, shape),
                    device,
                )))
            }
        }
    }

    /// A linear layer's weight stored PyTorch-style as `[out, in]`, returned burn-style as
    /// `[in, out]` (transposed on the host, so the parameter stays a leaf).
    pub fn linear_weight(
        &mut self,
        name: &str,
        out: usize,
        input: usize,
        device: &Device,
    ) -> Result<Param<Tensor<2>>> {
        match self {
            Init::Random(rng) => Ok(uniform_param(
                [input, out],
                crate::init::default_bound(input),
                rng,
                device,
            )),
            Init::File(file) => {
                let v = file.values(name, &[out, input])?;
                let mut t = vec![0.0; v.len()];
                for o in 0..out {
                    for i in 0..input {
                        t[i * out + o] = v[o * input + i];
                    }
                }
                Ok(Param::from_tensor(Tensor::from_data(
                    TensorData::new(t, [input, out]),
                    device,
                )))
            }
        }
    }

    /// A fixed tensor (e.g. running statistics): `name` in the file, or `fill` when random.
    pub fn constant(&mut self, name: &str, len: usize, fill: f32) -> Result<Vec<f32>> {
        match self {
            Init::Random(_) => Ok(vec![fill; len]),
            Init::File(file) => file.values(name, &[len]),
        }
    }
}
