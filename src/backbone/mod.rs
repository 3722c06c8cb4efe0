//! Backbones: pretrained feature extractors split into blocks that the engine can freeze one at a
//! time. Adding an architecture = one file plus one variant here.
//!
//! Every backbone keeps its blocks in a field named `blocks` so that parameter paths read
//! `backbone.<Variant>.blocks.<i>.…`; the freezing plan and per-block learning rates rely on it.

pub mod convnet;
pub mod efficientnet_lite0;
pub mod mobilenet_v2;
#[cfg(not(target_arch = "wasm32"))]
pub mod pth;
pub mod toy_mlp;
pub mod weights;

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::data::image::Preprocess;
use crate::error::{Error, Result};
pub use convnet::ConvNet;
pub use toy_mlp::ToyMlp;
use weights::{Init, WeightFile};

/// What flows between blocks: `Flat [batch, features]` or `Spatial [batch, channels, h, w]`.
#[derive(Clone, Debug)]
pub enum Activations {
    Flat(Tensor<2>),
    Spatial(Tensor<4>),
}

impl Activations {
    pub fn batch_size(&self) -> usize {
        match self {
            Self::Flat(t) => t.dims()[0],
            Self::Spatial(t) => t.dims()[0],
        }
    }

    /// Rows `indices` (a device tensor of example indices).
    pub fn select(&self, indices: Tensor<1, burn::tensor::Int>) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.clone().select(0, indices)),
            Self::Spatial(t) => Self::Spatial(t.clone().select(0, indices)),
        }
    }

    /// Joins batches along the example axis (all parts of one kind, as one backbone makes them).
    pub fn cat(parts: Vec<Self>) -> Self {
        let (mut flat, mut spatial) = (Vec::new(), Vec::new());
        for p in parts {
            match p {
                Self::Flat(t) => flat.push(t),
                Self::Spatial(t) => spatial.push(t),
            }
        }
        if spatial.is_empty() {
            Self::Flat(Tensor::cat(flat, 0))
        } else {
            Self::Spatial(Tensor::cat(spatial, 0))
        }
    }

    /// Without gradient tracking.
    pub fn detach(self) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.detach()),
            Self::Spatial(t) => Self::Spatial(t.detach()),
        }
    }

    /// The same values on the device without autodiff (for a `valid()` model).
    pub fn inner(self) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.inner()),
            Self::Spatial(t) => Self::Spatial(t.inner()),
        }
    }

    /// The pooled `[batch, features]` matrix a head consumes (pooling spatial maps if needed).
    pub fn into_features(self) -> Tensor<2> {
        match self {
            Self::Flat(t) => t,
            Self::Spatial(t) => {
                let [b, c, _, _] = t.dims();
                t.mean_dim(2).mean_dim(3).reshape([b, c])
            }
        }
    }
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
}

impl BackboneSpec {
    /// The architecture's name as shown to people.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ToyMlp { .. } => "toy MLP",
            Self::Features { .. } => "given features",
            Self::MobilenetV2 => "MobileNetV2",
            Self::EfficientnetLite0 => "EfficientNet-Lite0",
        }
    }

    /// A tensor name every weight file of this architecture has (found with any prefix).
    fn probe(&self) -> Option<&'static str> {
        match self {
            Self::MobilenetV2 => Some("features.18.0.weight"),
            Self::EfficientnetLite0 => Some("_conv_head.weight"),
            Self::ToyMlp { .. } | Self::Features { .. } => None,
        }
    }

    /// The ImageNet classifier's weight name, present when a file carries the classifier.
    fn classifier_probe(&self) -> Option<&'static str> {
        match self {
            Self::MobilenetV2 => Some("classifier.1.weight"),
            Self::EfficientnetLite0 => Some("_fc.weight"),
            Self::ToyMlp { .. } | Self::Features { .. } => None,
        }
    }

    /// Builds a convolutional architecture from `init`.
    fn build_convnet(
        &self,
        init: &mut Init,
        with_classifier: bool,
        device: &burn::tensor::Device,
    ) -> Result<Option<ConvNet>> {
        Ok(match self {
            Self::MobilenetV2 => Some(mobilenet_v2::build(init, with_classifier, device)?),
            Self::EfficientnetLite0 => {
                Some(efficientnet_lite0::build(init, with_classifier, device)?)
            }
            Self::ToyMlp { .. } | Self::Features { .. } => None,
        })
    }

    /// How images must be prepared (`None` for non-image backbones).
    pub fn preprocess(&self) -> Option<Preprocess> {
        match self {
            Self::MobilenetV2 => Some(Preprocess::imagenet()),
            Self::EfficientnetLite0 => Some(Preprocess {
                size: 224,
                resize: 256,
                mean: [127.0 / 255.0; 3],
                std: [128.0 / 255.0; 3],
            }),
            Self::ToyMlp { .. } | Self::Features { .. } => None,
        }
    }
}

/// A backbone of any registered architecture.
#[derive(Module, Debug)]
pub enum Backbone {
    ToyMlp(ToyMlp),
    ConvNet(ConvNet),
}

impl Backbone {
    /// Builds `spec` on `device` with seeded random weights.
    pub fn build(
        spec: &BackboneSpec,
        rng: &mut crate::rng::Rng,
        device: &burn::tensor::Device,
    ) -> Result<Self> {
        match spec {
            BackboneSpec::ToyMlp { widths } => {
                if widths.len() < 2 || widths.contains(&0) {
                    return Err(Error::config(
                        "backbone.widths",
                        "needs an input size and at least one block width, all ≥ 1 (e.g. [16, 32, 32])",
                    ));
                }
                Ok(Self::ToyMlp(ToyMlp::new(widths, rng, device)))
            }
            BackboneSpec::Features { dim } => {
                if *dim == 0 {
                    return Err(Error::config(
                        "backbone.dim",
                        "feature vectors need at least 1 value",
                    ));
                }
                Ok(Self::ToyMlp(ToyMlp::new(&[*dim], rng, device)))
            }
            conv => match conv.build_convnet(&mut Init::Random(rng), false, device)? {
                Some(net) => Ok(Self::ConvNet(net)),
                None => Err(Error::config(
                    "backbone",
                    format!("{} cannot be built", conv.name()),
                )),
            },
        }
    }

    /// Builds `spec` with pretrained weights from safetensors `bytes` (torchvision / Hugging Face
    /// names). A file of another architecture or size is refused with what was expected.
    pub fn load(spec: &BackboneSpec, bytes: &[u8], device: &burn::tensor::Device) -> Result<Self> {
        let Some(probe) = spec.probe() else {
            return Err(Error::config(
                "backbone",
                format!("{} has no pretrained weights to load", spec.name()),
            ));
        };
        let mut file = WeightFile::parse(bytes, spec.name(), probe)?;
        let with_classifier = spec
            .classifier_probe()
            .is_some_and(|name| file.contains(name));
        match spec.build_convnet(&mut Init::File(&mut file), with_classifier, device)? {
            Some(net) => Ok(Self::ConvNet(net)),
            None => Err(Error::config(
                "backbone",
                format!("{} has no pretrained weights to load", spec.name()),
            )),
        }
    }

    /// ImageNet logits, when the backbone carries its original classifier.
    pub fn imagenet_logits(&self, features: Tensor<2>) -> Option<Tensor<2>> {
        match self {
            Self::ConvNet(m) => m.imagenet_logits(features),
            Self::ToyMlp(_) => None,
        }
    }

    pub fn num_blocks(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.blocks.len(),
            Self::ConvNet(m) => m.blocks.len(),
        }
    }

    /// Values per example that the first block expects.
    pub fn input_dim(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.input_dim(),
            Self::ConvNet(_) => Preprocess::imagenet().len(),
        }
    }

    /// Size of the pooled features the head sees.
    pub fn feature_dim(&self) -> usize {
        match self {
            Self::ToyMlp(m) => m.feature_dim(),
            Self::ConvNet(m) => m.feature_dim(),
        }
    }

    /// Turns a host batch of flat example rows into the first block's input.
    pub fn input(
        &self,
        rows: Vec<f32>,
        batch: usize,
        device: &burn::tensor::Device,
    ) -> Activations {
        match self {
            Self::ToyMlp(_) => {
                let data = burn::tensor::TensorData::new(rows, [batch, self.input_dim()]);
                Activations::Flat(Tensor::from_data(data, device))
            }
            Self::ConvNet(_) => {
                let size = Preprocess::imagenet().size;
                let data = burn::tensor::TensorData::new(rows, [batch, 3, size, size]);
                Activations::Spatial(Tensor::from_data(data, device))
            }
        }
    }

    /// Runs blocks `blocks` (a range of block indices). `train` puts normalisation layers in
    /// training mode; frozen blocks are always run with `train = false`.
    pub fn forward_blocks(
        &self,
        x: Activations,
        blocks: core::ops::Range<usize>,
        train: bool,
    ) -> Activations {
        match self {
            Self::ToyMlp(m) => m.forward_blocks(x, blocks, train),
            Self::ConvNet(m) => m.forward_blocks(x, blocks),
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
    let x = backbone.input(pre.eval(img), 1, device);
    let features = backbone
        .forward_blocks(x, 0..backbone.num_blocks(), false)
        .into_features();
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
