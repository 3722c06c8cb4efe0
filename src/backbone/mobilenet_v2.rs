//! MobileNetV2 (torchvision architecture, width 1.0): a stem, 17 inverted-residual blocks and a
//! final 1×1 convolution to 1280 channels — 19 blocks the engine freezes or trains one at a time —
//! then global average pooling to 1280-d features. The ImageNet classifier is kept when the
//! weights carry it (`classifier.1.*`), for checks and to show what the backbone sees.
//!
//! BatchNorm always uses its running statistics (inference mode), also in blocks that train:
//! fine-tuning batches of 8–32 images give poor batch statistics, and frozen BatchNorm is what
//! Keras' transfer-learning guide recommends. Its scale and shift still train in unfrozen blocks.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu6;
use burn::tensor::{Device, Tensor, TensorData};

use super::Activations;
use super::weights::Init;
use crate::error::Result;

/// torchvision's inverted-residual settings: expansion t, output channels c, repeats n, stride s.
const SETTINGS: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];
const STEM: usize = 32;
/// Channels of the pooled features.
pub const FEATURES: usize = 1280;
const BN_EPS: f32 = 1e-5;

/// Convolution + BatchNorm (inference mode) + optional ReLU6.
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

/// The layout of one convolution: channels in/out, kernel, stride, groups.
struct ConvSpec {
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    relu6: bool,
}

impl ConvBn {
    fn new(
        spec: ConvSpec,
        conv_name: &str,
        bn_name: &str,
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
        } = spec;
        let fan_in = cin / groups * kernel * kernel;
        let weight = init.param(
            &format!("{conv_name}.weight"),
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
                init.param(&format!("{bn_name}.weight"), [cout], 1, device)?,
                init.param(&format!("{bn_name}.bias"), [cout], 1, device)?,
            )
        };
        let mean = init.constant(&format!("{bn_name}.running_mean"), cout, 0.0)?;
        let var = init.constant(&format!("{bn_name}.running_var"), cout, 1.0)?;
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + BN_EPS).sqrt()).collect();
        Ok(Self {
            conv: Conv2d {
                weight,
                bias: None,
                stride: [stride, stride],
                kernel_size: [kernel, kernel],
                dilation: [1, 1],
                groups,
                padding: PaddingConfig2d::Explicit(kernel / 2, kernel / 2, kernel / 2, kernel / 2),
            },
            gamma,
            beta,
            mean: Tensor::from_data(TensorData::new(mean, [cout]), device),
            inv_std: Tensor::from_data(TensorData::new(inv_std, [cout]), device),
            relu6,
        })
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward(x);
        let c = self.inv_std.dims()[0];
        let scale = (self.gamma.val() * self.inv_std.clone()).reshape([1, c, 1, 1]);
        let shift = self.beta.val().reshape([1, c, 1, 1])
            - self.mean.clone().reshape([1, c, 1, 1]) * scale.clone();
        let x = x * scale + shift;
        if self.relu6 { relu6(x) } else { x }
    }
}

/// One block: a stem/final ConvBn, or an inverted residual (expand, depthwise, project).
#[derive(Module, Debug)]
pub struct MobileNetBlock {
    pub layers: Vec<ConvBn>,
    #[module(skip)]
    residual: bool,
}

impl MobileNetBlock {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = x.clone();
        for layer in &self.layers {
            y = layer.forward(y);
        }
        if self.residual { x + y } else { y }
    }
}

#[derive(Module, Debug)]
pub struct MobileNetV2 {
    pub blocks: Vec<MobileNetBlock>,
    /// The ImageNet classifier (1280 → 1000), when the weights include it.
    pub classifier: Option<Linear>,
}

fn single(
    spec: ConvSpec,
    block: usize,
    init: &mut Init,
    device: &Device,
) -> Result<MobileNetBlock> {
    let layer = ConvBn::new(
        spec,
        &format!("features.{block}.0"),
        &format!("features.{block}.1"),
        init,
        device,
    )?;
    Ok(MobileNetBlock {
        layers: vec![layer],
        residual: false,
    })
}

impl MobileNetV2 {
    /// Builds the network with parameters from `init` (torchvision names).
    pub fn new(init: &mut Init, with_classifier: bool, device: &Device) -> Result<Self> {
        let conv = |cin, cout, kernel, stride, groups, relu6| ConvSpec {
            cin,
            cout,
            kernel,
            stride,
            groups,
            relu6,
        };
        let mut blocks = vec![single(conv(3, STEM, 3, 2, 1, true), 0, init, device)?];
        let mut cin = STEM;
        for (t, c, n, s) in SETTINGS {
            for i in 0..n {
                let b = blocks.len();
                let stride = if i == 0 { s } else { 1 };
                let hidden = cin * t;
                let p = format!("features.{b}.conv");
                let mut layers = Vec::new();
                if t != 1 {
                    layers.push(ConvBn::new(
                        conv(cin, hidden, 1, 1, 1, true),
                        &format!("{p}.0.0"),
                        &format!("{p}.0.1"),
                        init,
                        device,
                    )?);
                }
                let (dw, project, bn) = if t != 1 { (1, 2, 3) } else { (0, 1, 2) };
                layers.push(ConvBn::new(
                    conv(hidden, hidden, 3, stride, hidden, true),
                    &format!("{p}.{dw}.0"),
                    &format!("{p}.{dw}.1"),
                    init,
                    device,
                )?);
                layers.push(ConvBn::new(
                    conv(hidden, c, 1, 1, 1, false),
                    &format!("{p}.{project}"),
                    &format!("{p}.{bn}"),
                    init,
                    device,
                )?);
                blocks.push(MobileNetBlock {
                    layers,
                    residual: stride == 1 && cin == c,
                });
                cin = c;
            }
        }
        let last = blocks.len();
        blocks.push(single(
            conv(cin, FEATURES, 1, 1, 1, true),
            last,
            init,
            device,
        )?);
        let classifier = if with_classifier {
            Some(Linear {
                weight: init.linear_weight("classifier.1.weight", 1000, FEATURES, device)?,
                bias: Some(init.param("classifier.1.bias", [1000], FEATURES, device)?),
            })
        } else {
            None
        };
        Ok(Self { blocks, classifier })
    }

    pub fn forward_blocks(&self, x: Activations, blocks: core::ops::Range<usize>) -> Activations {
        let end = blocks.end;
        let mut x = match x {
            Activations::Spatial(t) => t,
            flat @ Activations::Flat(_) => return flat,
        };
        for block in &self.blocks[blocks] {
            x = block.forward(x);
        }
        if end == self.blocks.len() {
            let [b, c, _, _] = x.dims();
            Activations::Flat(x.mean_dim(2).mean_dim(3).reshape([b, c]))
        } else {
            Activations::Spatial(x)
        }
    }

    /// ImageNet logits from pooled features, when the classifier was loaded.
    pub fn imagenet_logits(&self, features: Tensor<2>) -> Option<Tensor<2>> {
        self.classifier.as_ref().map(|c| c.forward(features))
    }
}
