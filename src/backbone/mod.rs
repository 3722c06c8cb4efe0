//! Backbones: pretrained feature extractors split into blocks that the engine can freeze one at a
//! time. Adding an image architecture = one file (its blocks and its [`ConvNetArchitecture`]
//! entry) plus its registry entry in `spec.rs`: a `BackboneSpec` variant and its line in
//! [`BackboneSpec::convnet`].
//!
//! Every backbone keeps its blocks in a field named `blocks` so that parameter paths read
//! `backbone.<Variant>.blocks.<i>.…`; the freezing plan and per-block learning rates rely on it.

mod activations;
pub mod bert;
pub mod convnet;
pub mod cpu_convnet;
pub mod cpu_encoder;
mod cpu_encoder_layer;
mod cpu_plan;
pub mod efficientnet_lite0;
pub mod host_matmul;
pub mod mobilenet_v2;
#[cfg(not(target_arch = "wasm32"))]
pub mod pth;
mod sizes;
mod spec;
pub mod toy_mlp;
pub mod weights;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

pub use activations::{Activations, unit_rows};
pub use bert::Bert;
pub use convnet::ConvNet;
pub use cpu_convnet::CpuConvPlan;
pub use cpu_encoder::CpuEncoderPlan;
pub use cpu_plan::CpuPlan;
use spec::no_pretrained_weights;
pub use spec::{BackboneSpec, ConvNetArchitecture, MAX_TOY_BLOCKS, MAX_TOY_PARAMETERS, MAX_WIDTH};
pub use toy_mlp::ToyMlp;
use weights::{Init, WeightFile};

use crate::data::image::Preprocess;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// A backbone of any registered architecture.
#[derive(Module, Debug)]
pub enum Backbone {
    ToyMlp(ToyMlp),
    ConvNet(ConvNet),
    Bert(Bert),
}

impl Backbone {
    /// Builds `spec` on `device` with seeded random weights.
    pub fn build(spec: &BackboneSpec, rng: &mut Rng, device: &Device) -> Result<Self> {
        match spec {
            BackboneSpec::ToyMlp { widths } => {
                let params: Option<usize> = widths
                    .windows(2)
                    .try_fold(0usize, |sum, w| sum.checked_add(w[0].checked_mul(w[1])?));
                if widths.len() < 2
                    || widths.len() > MAX_TOY_BLOCKS + 1
                    || widths.iter().any(|w| !(1..=MAX_WIDTH).contains(w))
                    || params.is_none_or(|p| p > MAX_TOY_PARAMETERS)
                {
                    return Err(Error::config(
                        "backbone.widths",
                        format!(
                            "needs an input size and 1 to {MAX_TOY_BLOCKS} block widths, each 1 to {MAX_WIDTH}, \
                             at most {MAX_TOY_PARAMETERS} weights in all (e.g. [16, 32, 32]); got {widths:?}"
                        ),
                    ));
                }
                Ok(Self::ToyMlp(ToyMlp::new(widths, rng, device)))
            }
            BackboneSpec::Features { dim } => {
                if !(1..=MAX_WIDTH).contains(dim) {
                    return Err(Error::config(
                        "backbone.dim",
                        format!("feature vectors need 1 to {MAX_WIDTH} values, got {dim}"),
                    ));
                }
                Ok(Self::ToyMlp(ToyMlp::new(&[*dim], rng, device)))
            }
            other => other.build_with(&mut Init::Random(rng), None, device),
        }
    }

    /// Builds `spec` with pretrained weights from safetensors `bytes` (torchvision / lukemelas /
    /// Hugging Face names). A file of another architecture or size is refused with what was
    /// expected.
    pub fn load(spec: &BackboneSpec, bytes: &[u8], device: &Device) -> Result<Self> {
        let Some(probe) = spec.probe() else {
            return Err(no_pretrained_weights(spec));
        };
        let mut file = WeightFile::parse(bytes, spec.name(), probe)?;
        let size = match spec {
            BackboneSpec::Bert { heads, .. } => Some(bert::size_from_file(&file, *heads)?),
            _ => None,
        };
        spec.build_with(&mut Init::File(&mut file), size, device)
    }

    /// ImageNet logits, when the backbone carries its original classifier.
    pub fn imagenet_logits(&self, features: Tensor<2>) -> Option<Tensor<2>> {
        match self {
            Self::ConvNet(m) => m.imagenet_logits(features),
            _ => None,
        }
    }

    pub fn num_blocks(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.blocks.len(),
            Self::ConvNet(m) => m.blocks.len(),
            Self::Bert(m) => m.blocks.len(),
        }
    }

    /// Values per example that the first block expects (texts: token ids then mask, `max_len`
    /// each).
    pub fn input_dim(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.input_dim(),
            Self::ConvNet(_) => Preprocess::imagenet().len(),
            Self::Bert(m) => 2 * m.max_len(),
        }
    }

    /// The same backbone, a text encoder pooling every layer (`true`) or its last (see
    /// `TextFeatures`); image backbones have one feature vector and stay as they are.
    pub fn with_every_layer(self, every_layer: bool) -> Self {
        match self {
            Self::Bert(m) => Self::Bert(m.with_every_layer(every_layer)),
            other => other,
        }
    }

    /// Whether a text encoder pools every layer.
    pub fn pools_every_layer(&self) -> bool {
        matches!(self, Self::Bert(m) if m.pools_every_layer())
    }

    /// Size of the pooled features the head sees.
    pub fn feature_dim(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.feature_dim(),
            Self::ConvNet(m) => m.feature_dim(),
            Self::Bert(m) => m.feature_dim(),
        }
    }

    /// Turns a host batch of flat example rows into the first block's input. Text rows are
    /// trimmed to the longest text of the batch (dynamic padding).
    pub fn input(&self, rows: Vec<f32>, batch: usize, device: &Device) -> Activations {
        match self {
            Self::ToyMlp(_) => Activations::Flat(Tensor::from_data(
                TensorData::new(rows, [batch, self.input_dim()]),
                device,
            )),
            Self::ConvNet(_) => {
                let size = Preprocess::imagenet().size;
                Activations::Spatial(Tensor::from_data(
                    TensorData::new(rows, [batch, 3, size, size]),
                    device,
                ))
            }
            Self::Bert(m) => {
                let max_len = &m.max_len();
                let row = |i: usize| &rows[i * 2 * max_len..(i + 1) * 2 * max_len];
                let len = (0..batch)
                    .filter_map(|i| self.tokens_in(row(i)))
                    .max()
                    .unwrap_or(1)
                    .max(1);
                let mut ids = Vec::with_capacity(batch * len);
                let mut mask = Vec::with_capacity(batch * len);
                for i in 0..batch {
                    ids.extend(row(i)[..len].iter().map(|&v| v as i64));
                    mask.extend_from_slice(&row(i)[*max_len..*max_len + len]);
                }
                let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, len]), device);
                let mask = Tensor::from_data(TensorData::new(mask, [batch, len]), device);
                m.embed(ids, mask)
            }
        }
    }

    /// The tokens of a text backbone's input row (its mask's ones; the ids come first, then the
    /// mask, `max_len` each). `None` for other backbones and for a row of another width (as a
    /// data set whose rows are kept elsewhere gives: empty).
    pub fn tokens_in(&self, row: &[f32]) -> Option<usize> {
        match self {
            Self::Bert(m) if row.len() == 2 * m.max_len() => {
                Some(row[m.max_len()..].iter().filter(|&&v| v > 0.5).count())
            }
            _ => None,
        }
    }

    /// Inference through every block for `batch` host rows: on the host-memory plan where one
    /// applies (built for this call: the weights may have trained since the last), else burn.
    pub fn infer(&self, rows: Vec<f32>, batch: usize, device: &Device) -> Activations {
        let blocks = self.num_blocks();
        match self.cpu_plan(blocks, device) {
            Some(plan) => plan.forward(&rows, batch, device),
            None => self.forward_blocks(self.input(rows, batch, device), 0..blocks, false),
        }
    }

    /// Runs blocks `blocks` (a range of block indices). `train` puts normalisation layers in
    /// training mode where a backbone has them (none does today: BatchNorm stays in inference).
    pub fn forward_blocks(
        &self,
        x: Activations,
        blocks: core::ops::Range<usize>,
        train: bool,
    ) -> Activations {
        match self {
            Self::ToyMlp(m) => m.forward_blocks(x, blocks, train),
            Self::ConvNet(m) => m.forward_blocks(x, blocks),
            Self::Bert(m) => m.forward_blocks(x, blocks),
        }
    }
}

/// The `k` most likely ImageNet classes `(index, probability)` of an image, for a backbone that
/// kept its ImageNet classifier.
pub async fn imagenet_top_k(
    spec: &BackboneSpec,
    backbone: &Backbone,
    img: &crate::data::image::Rgba,
    k: usize,
    device: &burn::tensor::Device,
) -> Result<Vec<(usize, f32)>> {
    let pre = spec
        .preprocess()
        .ok_or_else(|| Error::State(format!("{} does not take images", spec.name())))?;
    let features = backbone.infer(pre.eval(img), 1, device).into_features();
    let logits = backbone
        .imagenet_logits(features)
        .ok_or_else(|| Error::State("these weights carry no ImageNet classifier".into()))?;
    let probs = burn::tensor::activation::softmax(logits, 1)
        .into_data_async()
        .await
        .map_err(|e| Error::device("reading ImageNet scores failed", e))?
        .try_into_vec_as::<f32>()
        .map_err(|e| Error::device("reading ImageNet scores failed", e))?;
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    Ok(order.into_iter().take(k).map(|i| (i, probs[i])).collect())
}
