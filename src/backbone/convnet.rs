//! The runtime shape shared by MobileNetV2 and EfficientNet-Lite: blocks of convolution +
//! BatchNorm (+ ReLU6) layers with optional residuals, global average pooling, and an optional
//! ImageNet classifier. The architecture files only say how to build one from named weights.
//!
//! BatchNorm always uses its running statistics (inference mode), also in blocks that train:
//! fine-tuning batches of 8–32 images give poor batch statistics, and frozen BatchNorm is what
//! Keras' transfer-learning guide recommends. Its scale and shift still train in unfrozen blocks.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu6;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

use super::Activations;
use super::weights::Init;
use crate::error::Result;

/// The layout of one convolution and the BatchNorm after it.
pub struct ConvSpec {
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub stride: usize,
    pub groups: usize,
    pub relu6: bool,
    pub bn_eps: f32,
}

/// Convolution (no bias, symmetric padding) + BatchNorm in inference mode + optional ReLU6.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
    /// Fixed: running mean and 1/√(running var + ε).
    mean: Tensor<1>,
    inv_std: Tensor<1>,
    #[module(skip)]
    relu6: bool,
}

impl ConvBn {
    /// Builds from `init`, reading `<conv>.weight` and `<bn>.{weight,bias,running_mean,running_var}`.
    pub fn new(
        spec: ConvSpec,
        conv: &str,
        bn: &str,
        init: &mut Init,
        device: &Device,
    ) -> Result<Self> {
        let ConvSpec {
            cin,
            cout,
            kernel,
            stride,
            groups,
            relu6,
            bn_eps,
        } = spec;
        let fan_in = cin / groups * kernel * kernel;
        let weight = init.param(
            &format!("{conv}.weight"),
            [cout, cin / groups, kernel, kernel],
            fan_in,
            device,
        )?;
        // Random BatchNorm starts as the identity (γ = 1, β = 0), as PyTorch initialises it.
        let (gamma, beta) = if matches!(init, Init::Random(_)) {
            (
                Param::from_tensor(Tensor::ones([cout], device)),
                Param::from_tensor(Tensor::zeros([cout], device)),
            )
        } else {
            (
                init.param(&format!("{bn}.weight"), [cout], 1, device)?,
                init.param(&format!("{bn}.bias"), [cout], 1, device)?,
            )
        };
        let mean = init.constant(&format!("{bn}.running_mean"), cout, 0.0)?;
        let var = init.constant(&format!("{bn}.running_var"), cout, 1.0)?;
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + bn_eps).sqrt()).collect();
        let pad = kernel / 2;
        Ok(Self {
            conv: Conv2d {
                weight,
                bias: None,
                stride: [stride, stride],
                kernel_size: [kernel, kernel],
                dilation: [1, 1],
                groups,
                padding: PaddingConfig2d::Explicit(pad, pad, pad, pad),
            },
            gamma,
            beta,
            mean: Tensor::from_data(TensorData::new(mean, [cout]), device),
            inv_std: Tensor::from_data(TensorData::new(inv_std, [cout]), device),
            relu6,
        })
    }

    /// The convolution with BatchNorm folded in: weights W·s and bias β − μ·s, s = γ/√(σ² + ε).
    /// conv(x, W·s) + (β − μ·s) equals conv(x, W) then BatchNorm, but touches the activations
    /// once instead of three times (conv, scale, shift) — the activations are large, the
    /// weights small. Gradients still reach W, γ and β through the fold.
    pub fn folded(&self) -> (Tensor<4>, Tensor<1>) {
        let c = self.inv_std.dims()[0];
        let scale = self.gamma.val() * self.inv_std.clone();
        let bias = self.beta.val() - self.mean.clone() * scale.clone();
        (self.conv.weight.val() * scale.reshape([c, 1, 1, 1]), bias)
    }

    pub fn has_relu6(&self) -> bool {
        self.relu6
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let (weight, bias) = self.folded();
        let pad = self.conv.kernel_size.map(|k| k / 2);
        let options = ConvOptions::new(self.conv.stride, pad, self.conv.dilation, self.conv.groups);
        let x = conv2d(x, weight, Some(bias), options);
        if self.relu6 { relu6(x) } else { x }
    }
}

/// One block: a single ConvBn (stem, head) or an inverted residual (expand, depthwise, project).
#[derive(Module, Debug)]
pub struct ConvBlock {
    pub layers: Vec<ConvBn>,
    #[module(skip)]
    pub residual: bool,
}

impl ConvBlock {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = x.clone();
        for layer in &self.layers {
            y = layer.forward(y);
        }
        if self.residual { x + y } else { y }
    }
}

/// Blocks, pooled features and (when the weights carry it) the ImageNet classifier.
#[derive(Module, Debug)]
pub struct ConvNet {
    pub blocks: Vec<ConvBlock>,
    pub classifier: Option<Linear>,
}

impl ConvNet {
    /// Channels of the pooled features.
    pub fn feature_dim(&self) -> usize {
        self.blocks
            .last()
            .and_then(|b| b.layers.last())
            .map_or(0, |l| l.inv_std.dims()[0])
    }

    pub fn forward_blocks(&self, x: Activations, blocks: core::ops::Range<usize>) -> Activations {
        let end = blocks.end;
        let mut x = match x {
            Activations::Spatial(t) => t,
            other => return other,
        };
        for block in &self.blocks[blocks] {
            x = block.forward(x);
        }
        if end == self.blocks.len() {
            Activations::Flat(Activations::Spatial(x).into_features())
        } else {
            Activations::Spatial(x)
        }
    }

    /// ImageNet logits from pooled features, when the classifier was loaded.
    pub fn imagenet_logits(&self, features: Tensor<2>) -> Option<Tensor<2>> {
        self.classifier.as_ref().map(|c| c.forward(features))
    }
}

/// A block made of one ConvBn whose weights are `<conv>` / `<bn>`.
pub fn single_block(
    spec: ConvSpec,
    conv: &str,
    bn: &str,
    init: &mut Init,
    device: &Device,
) -> Result<ConvBlock> {
    Ok(ConvBlock {
        layers: vec![ConvBn::new(spec, conv, bn, init, device)?],
        residual: false,
    })
}

/// The 1000-class ImageNet classifier from `<prefix>.weight` ([1000, features]) and `.bias`.
pub fn imagenet_classifier(
    prefix: &str,
    features: usize,
    init: &mut Init,
    device: &Device,
) -> Result<Linear> {
    Ok(Linear {
        weight: init.linear_weight(&format!("{prefix}.weight"), 1000, features, device)?,
        bias: Some(init.param(&format!("{prefix}.bias"), [1000], features, device)?),
    })
}

/// The shape of one inverted-residual block (MobileNetV2 / MBConv without squeeze-excitation).
pub struct InvertedResidual {
    pub cin: usize,
    pub cout: usize,
    pub expansion: usize,
    pub kernel: usize,
    pub stride: usize,
    pub bn_eps: f32,
}

/// Weight names `(conv, bn)` of an inverted residual's expand (absent when the expansion is 1),
/// depthwise and project layers.
pub struct InvertedResidualNames {
    pub expand: Option<(String, String)>,
    pub depthwise: (String, String),
    pub project: (String, String),
}

/// Expand (1×1, ReLU6) → depthwise (k×k, ReLU6) → project (1×1, linear), with a residual when
/// the shape is kept.
pub fn inverted_residual(
    shape: InvertedResidual,
    names: InvertedResidualNames,
    init: &mut Init,
    device: &Device,
) -> Result<ConvBlock> {
    let InvertedResidual {
        cin,
        cout,
        expansion,
        kernel,
        stride,
        bn_eps,
    } = shape;
    let hidden = cin * expansion;
    let spec = |cin, cout, kernel, stride, groups, relu6| ConvSpec {
        cin,
        cout,
        kernel,
        stride,
        groups,
        relu6,
        bn_eps,
    };
    let mut layers = Vec::new();
    if let Some((conv, bn)) = &names.expand {
        layers.push(ConvBn::new(
            spec(cin, hidden, 1, 1, 1, true),
            conv,
            bn,
            init,
            device,
        )?);
    }
    let (conv, bn) = &names.depthwise;
    layers.push(ConvBn::new(
        spec(hidden, hidden, kernel, stride, hidden, true),
        conv,
        bn,
        init,
        device,
    )?);
    let (conv, bn) = &names.project;
    layers.push(ConvBn::new(
        spec(hidden, cout, 1, 1, 1, false),
        conv,
        bn,
        init,
        device,
    )?);
    Ok(ConvBlock {
        layers,
        residual: stride == 1 && cin == cout,
    })
}
