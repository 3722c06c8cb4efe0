//! The registry of backbone architectures: what a project or a model file names
//! ([`BackboneSpec`]), the facts of each pretrained image architecture ([`ConvNetArchitecture`]),
//! the bounds on the sizes a spec may ask for, and building a spec from weights or at random.

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use super::weights::Init;
use super::{Backbone, Bert, ConvNet, bert, efficientnet_lite0, mobilenet_v2};
use crate::data::image::Preprocess;
use crate::error::{Error, Result};

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
    pub(super) fn probe(&self) -> Option<&'static str> {
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
    pub(super) fn build_with(
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
pub(super) fn no_pretrained_weights(spec: &BackboneSpec) -> Error {
    Error::config(
        "backbone",
        format!("{} has no pretrained weights to load", spec.name()),
    )
}
