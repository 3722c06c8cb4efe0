//! Sets of named parameters in one safetensors file (flat; f32, or f16 for a lighter model file),
//! with a JSON description in the header: the one format that model files and checkpoints share. Tensors are read back from the
//! device with one asynchronous transaction, so writing works in the browser, where synchronous
//! reads panic.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor, TensorData, Transaction};
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use super::Classifier;
use crate::error::{Error, Result};

/// How the values of a file are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 4 bytes per value: exactly the trained weights.
    #[default]
    F32,
    /// 2 bytes per value (IEEE half): half the file, each value rounded to 11 significant bits.
    F16,
}

/// The largest magnitude f16 holds; a weight beyond it cannot be stored in half precision.
const F16_MAX: f32 = 65_504.0;

/// Writes the named tensors (read back in one transaction) as f32 safetensors, with `meta_json`
/// under `meta_key` in the header.
pub async fn write_tensors(
    meta_key: &str,
    meta_json: String,
    tensors: Vec<(String, Tensor<1>)>,
) -> Result<Vec<u8>> {
    write_tensors_as(meta_key, meta_json, tensors, Precision::F32).await
}

/// [`write_tensors`] with the values stored at `precision`.
pub async fn write_tensors_as(
    meta_key: &str,
    meta_json: String,
    tensors: Vec<(String, Tensor<1>)>,
    precision: Precision,
) -> Result<Vec<u8>> {
    let mut tx = Transaction::default();
    for (_, t) in &tensors {
        tx = tx.register(t.clone());
    }
    let data = tx
        .execute_async()
        .await
        .map_err(|e| Error::device("reading the checkpoint back from the device failed", e))?;
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .zip(data)
        .map(|((name, _), d)| {
            let values = d
                .try_into_vec_as::<f32>()
                .map_err(|e| Error::device("reading a checkpoint tensor failed", e))?;
            let raw: Vec<u8> = match precision {
                Precision::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Precision::F16 => {
                    if let Some(big) = values.iter().find(|v| v.abs() > F16_MAX) {
                        return Err(Error::Data(format!(
                            "`{name}` holds {big}, beyond what f16 stores (±{F16_MAX}): export this model in f32"
                        )));
                    }
                    values
                        .iter()
                        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                        .collect()
                }
            };
            Ok((name.clone(), vec![values.len()], raw))
        })
        .collect::<Result<_>>()?;
    let views = bytes
        .iter()
        .map(|(name, shape, raw)| {
            let dtype = match precision {
                Precision::F32 => Dtype::F32,
                Precision::F16 => Dtype::F16,
            };
            TensorView::new(dtype, shape.clone(), raw)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::State(format!("internal: checkpoint tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(
        views,
        Some(HashMap::from([(meta_key.to_string(), meta_json)])),
    )
    .map_err(|e| Error::State(format!("internal: writing the file failed: {e}")))
}

/// The description under `meta_key` alone (the header is read, the tensors are not).
pub fn read_description(bytes: &[u8], meta_key: &str, what: &str) -> Result<String> {
    let not_ours = |why: String| Error::Data(format!("this is not a kindling {what} ({why})"));
    let (_, header) =
        safetensors::SafeTensors::read_metadata(bytes).map_err(|e| not_ours(e.to_string()))?;
    header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(meta_key))
        .cloned()
        .ok_or_else(|| not_ours(format!("no {what} metadata")))
}

/// The metadata under `meta_key` and every tensor (as f32) of a file written by
/// [`write_tensors`] or [`write_tensors_as`]; `what` names the kind of file in errors.
pub fn read_tensors(
    bytes: &[u8],
    meta_key: &str,
    what: &str,
) -> Result<(String, HashMap<String, Vec<f32>>)> {
    let not_ours = |why: String| Error::Data(format!("this is not a kindling {what} ({why})"));
    let meta_json = read_description(bytes, meta_key, what)?;
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| not_ours(e.to_string()))?;
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(not_ours(format!(
                    "tensor `{name}` is {other:?}, not F32 or F16"
                )));
            }
        };
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "this {what} is damaged: tensor `{name}` holds {bad}; only finite numbers make a usable model"
            )));
        }
        tensors.insert(name, values);
    }
    Ok((meta_json, tensors))
}

/// Replaces every parameter of `model` (except those `keep` selects by path) by
/// `<prefix><path>` from `tensors`; errors name a missing or mis-sized one.
pub fn load_params(
    model: Classifier,
    tensors: &HashMap<String, Vec<f32>>,
    prefix: &str,
    keep: &dyn Fn(&str) -> bool,
    device: &Device,
) -> Result<Classifier> {
    let mut loader = ParamLoader {
        path: Vec::new(),
        tensors,
        prefix,
        keep,
        device,
        error: None,
    };
    let model = model.map(&mut loader);
    match loader.error {
        Some(e) => Err(e),
        None => Ok(model),
    }
}

struct ParamLoader<'a> {
    path: Vec<String>,
    tensors: &'a HashMap<String, Vec<f32>>,
    prefix: &'a str,
    keep: &'a dyn Fn(&str) -> bool,
    device: &'a Device,
    error: Option<Error>,
}

impl ModuleMapper for ParamLoader<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        if (self.keep)(&path) {
            return param;
        }
        let name = format!("{}{path}", self.prefix);
        let dims = param.val().dims();
        let n: usize = dims.iter().product();
        match self.tensors.get(&name) {
            Some(values) if values.len() == n => {
                let (id, tensor, mapper) = param.consume();
                let require_grad = tensor.is_require_grad();
                let t = Tensor::<D>::from_data(TensorData::new(values.clone(), dims), self.device)
                    .set_require_grad(require_grad);
                Param::from_mapped_value(id, t, mapper)
            }
            found => {
                self.error.get_or_insert_with(|| {
                    Error::Data(format!(
                        "the file does not fit this model: `{name}` {}",
                        match found {
                            Some(v) => format!("has {} values, the model needs {n}", v.len()),
                            None => "is missing".into(),
                        }
                    ))
                });
                param
            }
        }
    }
}
