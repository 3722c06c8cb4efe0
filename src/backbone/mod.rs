//! Backbones: pretrained feature extractors split into blocks that the engine can freeze one at a
//! time. Adding an image architecture = one file (its blocks and its [`ConvNetArchitecture`]
//! entry) plus its registry entry here: a `BackboneSpec` variant and its line in
//! [`BackboneSpec::convnet`].
//!
//! Every backbone keeps its blocks in a field named `blocks` so that parameter paths read
//! `backbone.<Variant>.blocks.<i>.…`; the freezing plan and per-block learning rates rely on it.

mod activations;
pub mod bert;
pub mod convnet;
pub mod cpu_convnet;
pub mod cpu_encoder;
mod cpu_plan;
pub mod efficientnet_lite0;
pub mod host_matmul;
pub mod mobilenet_v2;
#[cfg(not(target_arch = "wasm32"))]
pub mod pth;
mod sizes;
pub mod toy_mlp;
pub mod weights;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use activations::{Activations, unit_rows};
pub use bert::Bert;
pub use convnet::ConvNet;
pub use cpu_convnet::CpuConvPlan;
pub use cpu_encoder::CpuEncoderPlan;
pub use cpu_plan::CpuPlan;
pub use toy_mlp::ToyMlp;
use weights::{Init, WeightFile};

use crate::data::image::Preprocess;
use crate::error::{Error, Result};
use crate::rng::Rng;

fn default_heads() -> usize {
    12
}
fn default_max_len() -> usize {
    128
}
fn default_true() -> bool {
    true
}

/// Bounds on the sizes a `toy_mlp`/`features` spec may ask for: beyond them the weights alone
/// would not fit in a browser tab (`widths: [100000, 100000]` is 40 GB).
pub const MAX_WIDTH: usize = 65_536;
pub const MAX_TOY_BLOCKS: usize = 16;
pub const MAX_TOY_PARAMETERS: usize = 50_000_000;

/// What the registry knows of a pretrained image architecture (each file defines one).
pub struct ConvNetArchitecture {
    /// The name shown to people.
    pub name: &'static str,
    /// A tensor name every weight file of it has (found with any prefix).
    pub weight_probe: &'static str,
    /// The ImageNet classifier's weight name, present when a file carries the classifier.
    pub classifier_probe: &'static str,
    /// How images must be prepared.
    pub preprocess: Preprocess,
    /// Builds the network from `init`; `with_classifier` keeps the ImageNet classifier.
    pub build: fn(&mut Init, bool, &Device) -> Result<ConvNet>,
}

/// Which architecture to build, and its size where it has one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BackboneSpec {
    /// A small randomly initialised MLP (Linear + ReLU blocks): for tests, demos and for
    /// classifying feature vectors computed elsewhere. `widths[0]` is the input size.
    ToyMlp { widths: Vec<usize> },
    /// No blocks: the head trains directly on feature vectors of size `dim` computed elsewhere.
    Features { dim: usize },
    /// MobileNetV2 (torchvision), 224×224 RGB, 19 blocks, 1280-d features.
    MobilenetV2,
    /// EfficientNet-Lite0, 224×224 RGB, 18 blocks, 1280-d features.
    EfficientnetLite0,
    /// A BERT-family sentence encoder (all-MiniLM-L6-v2 by default): `heads` from its
    /// config.json (default 12), texts truncated to `max_len` tokens (default 128), embeddings
    /// L2-normalised unless `normalize` is false.
    Bert {
        #[serde(default = "default_heads")]
        heads: usize,
        #[serde(default = "default_max_len")]
        max_len: usize,
        #[serde(default = "default_true")]
        normalize: bool,
    },
}

impl BackboneSpec {
    /// A BERT spec from a Hugging Face `config.json` (its `num_attention_heads`; the other sizes
    /// are read from the weights). Refuses configs of other model types.
    pub fn bert_from_config(config_json: &str, max_len: usize) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(config_json)
            .map_err(|e| Error::Weights(format!("config.json is not valid JSON ({e})")))?;
        let model_type = v.get("model_type").and_then(|t| t.as_str()).unwrap_or("");
        if !["bert", "roberta", "distilbert", "xlm-roberta", ""].contains(&model_type)
            && !model_type.contains("bert")
        {
            return Err(Error::Weights(format!(
                "config.json describes a '{model_type}' model, not a BERT-family encoder"
            )));
        }
        if v.get("hidden_act")
            .and_then(|a| a.as_str())
            .is_some_and(|a| a != "gelu")
        {
            return Err(Error::Weights(
                "kindling's BERT encoder uses GELU; this config asks for another activation".into(),
            ));
        }
        let heads = v
            .get("num_attention_heads")
            .and_then(|h| h.as_u64())
            .ok_or_else(|| Error::Weights("config.json has no num_attention_heads".into()))?;
        Ok(Self::Bert {
            heads: heads as usize,
            max_len,
            normalize: true,
        })
    }

    /// The registry of pretrained image architectures.
    pub fn convnet(&self) -> Option<&'static ConvNetArchitecture> {
        match self {
            Self::MobilenetV2 => Some(&mobilenet_v2::ARCHITECTURE),
            Self::EfficientnetLite0 => Some(&efficientnet_lite0::ARCHITECTURE),
            Self::ToyMlp { .. } | Self::Features { .. } | Self::Bert { .. } => None,
        }
    }

    /// The architecture's name as shown to people.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ToyMlp { .. } => "toy MLP",
            Self::Features { .. } => "given features",
            Self::Bert { .. } => "BERT encoder",
            other => other.convnet().map_or("unnamed backbone", |a| a.name),
        }
    }

    /// A tensor name every weight file of this architecture has (found with any prefix).
    fn probe(&self) -> Option<&'static str> {
        match self {
            Self::Bert { .. } => Some("embeddings.word_embeddings.weight"),
            other => other.convnet().map(|a| a.weight_probe),
        }
    }

    /// How images must be prepared (`None` for non-image backbones).
    pub fn preprocess(&self) -> Option<Preprocess> {
        self.convnet().map(|a| a.preprocess.clone())
    }

    /// Builds this architecture from `init` (random, or a weight file).
    fn build_with(
        &self,
        init: &mut Init,
        file_size: Option<bert::BertSize>,
        device: &Device,
    ) -> Result<Backbone> {
        if let Some(arch) = self.convnet() {
            let with_classifier = match &*init {
                Init::File(file) => file.contains(arch.classifier_probe),
                Init::Random(_) => false,
            };
            return Ok(Backbone::ConvNet((arch.build)(
                init,
                with_classifier,
                device,
            )?));
        }
        match self {
            Self::Bert {
                heads,
                max_len,
                normalize,
            } => {
                let size = bert::BertSize {
                    heads: *heads,
                    ..file_size.unwrap_or_else(bert::BertSize::minilm_l6)
                };
                if *max_len < 2 || *max_len > size.positions {
                    return Err(Error::config(
                        "backbone.max_len",
                        format!(
                            "must be between 2 and {} (the model's positions), got {max_len}",
                            size.positions
                        ),
                    ));
                }
                Ok(Backbone::Bert(Bert::new(
                    size, *normalize, *max_len, init, device,
                )?))
            }
            _ => Err(no_pretrained_weights(self)),
        }
    }
}

/// The error for loading pretrained weights into an architecture that has none.
fn no_pretrained_weights(spec: &BackboneSpec) -> Error {
    Error::config(
        "backbone",
        format!("{} has no pretrained weights to load", spec.name()),
    )
}

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

    /// Size of the pooled features the head sees.
    pub fn feature_dim(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.feature_dim(),
            Self::ConvNet(m) => m.feature_dim(),
            Self::Bert(m) => m.hidden(),
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
