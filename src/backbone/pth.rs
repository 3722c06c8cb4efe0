//! Native only: converts a PyTorch checkpoint (.pth, legacy or zip) into safetensors bytes, the
//! format the browser loads. Values are stored as f32.

use std::collections::BTreeMap;
use std::path::Path;

use pytorch_reader::{DType, PytorchReader};
use safetensors::tensor::{Dtype, TensorView};

use crate::error::{Error, Result};

/// Reads every floating-point tensor of `path` and returns a safetensors file of them (f32),
/// with `metadata` in its header. Integer bookkeeping tensors (`num_batches_tracked`) are dropped.
pub fn pth_to_safetensors(path: &Path, metadata: BTreeMap<String, String>) -> Result<Vec<u8>> {
    let shown = path.display();
    let reader = PytorchReader::new(path)
        .map_err(|e| Error::Weights(format!("cannot read {shown} as a PyTorch checkpoint: {e}")))?;
    let mut tensors: BTreeMap<String, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for (name, tensor) in reader.tensors() {
        let bytes = tensor
            .read()
            .map_err(|e| Error::Weights(format!("{shown}: tensor `{name}` cannot be read: {e}")))?;
        let f32_bytes: Vec<u8> = match tensor.dtype() {
            DType::F32 => bytes,
            DType::F64 => bytes
                .chunks_exact(8)
                .flat_map(|b| {
                    (f64::from_ne_bytes(b.try_into().unwrap_or([0; 8])) as f32).to_le_bytes()
                })
                .collect(),
            DType::F16 => bytes
                .chunks_exact(2)
                .flat_map(|b| {
                    half::f16::from_ne_bytes([b[0], b[1]])
                        .to_f32()
                        .to_le_bytes()
                })
                .collect(),
            DType::BF16 => bytes
                .chunks_exact(2)
                .flat_map(|b| {
                    half::bf16::from_ne_bytes([b[0], b[1]])
                        .to_f32()
                        .to_le_bytes()
                })
                .collect(),
            _ => continue,
        };
        tensors.insert(name.clone(), (tensor.shape().to_vec(), f32_bytes));
    }
    if tensors.is_empty() {
        return Err(Error::Weights(format!(
            "{shown} holds no floating-point tensors"
        )));
    }
    let views = tensors
        .iter()
        .map(|(name, (shape, bytes))| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::Weights(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata.into_iter().collect()))
        .map_err(|e| Error::Weights(format!("writing safetensors failed: {e}")))
}
