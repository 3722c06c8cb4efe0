//! MobileNetV2 (torchvision architecture, width 1.0): a stem, 17 inverted-residual blocks and a
//! final 1×1 convolution to 1280 channels — 19 blocks the engine freezes or trains one at a time —
//! then global average pooling to 1280-d features. Weight names are torchvision's
//! (`features.N…`, `classifier.1.*`); BatchNorm ε = 1e-5; input: ImageNet mean/std.

use burn::tensor::Device;

use super::ConvNetArchitecture;
use super::convnet::{
    ConvNet, ConvSpec, InvertedResidual, InvertedResidualNames, imagenet_classifier,
    inverted_residual, single_block,
};
use super::weights::Init;
use crate::data::image::Preprocess;
use crate::error::Result;

/// This architecture's registry entry (see `backbone::BackboneSpec::convnet`).
pub const ARCHITECTURE: ConvNetArchitecture = ConvNetArchitecture {
    name: "MobileNetV2",
    weight_probe: "features.18.0.weight",
    classifier_probe: "classifier.1.weight",
    preprocess: Preprocess::imagenet(),
    build,
};

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
const EPS: f32 = 1e-5;

fn conv(
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    relu6: bool,
) -> ConvSpec {
    ConvSpec {
        cin,
        cout,
        kernel,
        stride,
        groups,
        relu6,
        bn_eps: EPS,
    }
}

/// Builds the network with parameters from `init`.
pub fn build(init: &mut Init, with_classifier: bool, device: &Device) -> Result<ConvNet> {
    let mut blocks = vec![single_block(
        conv(3, STEM, 3, 2, 1, true),
        "features.0.0",
        "features.0.1",
        init,
        device,
    )?];
    let mut cin = STEM;
    for (t, c, n, s) in SETTINGS {
        for i in 0..n {
            let b = blocks.len();
            let p = format!("features.{b}.conv");
            let pair = |conv: String, bn: String| (conv, bn);
            let names = if t != 1 {
                InvertedResidualNames {
                    expand: Some(pair(format!("{p}.0.0"), format!("{p}.0.1"))),
                    depthwise: pair(format!("{p}.1.0"), format!("{p}.1.1")),
                    project: pair(format!("{p}.2"), format!("{p}.3")),
                }
            } else {
                InvertedResidualNames {
                    expand: None,
                    depthwise: pair(format!("{p}.0.0"), format!("{p}.0.1")),
                    project: pair(format!("{p}.1"), format!("{p}.2")),
                }
            };
            let shape = InvertedResidual {
                cin,
                cout: c,
                expansion: t,
                kernel: 3,
                stride: if i == 0 { s } else { 1 },
                bn_eps: EPS,
            };
            blocks.push(inverted_residual(shape, names, init, device)?);
            cin = c;
        }
    }
    let last = blocks.len();
    blocks.push(single_block(
        conv(cin, FEATURES, 1, 1, 1, true),
        &format!("features.{last}.0"),
        &format!("features.{last}.1"),
        init,
        device,
    )?);
    let classifier = if with_classifier {
        Some(imagenet_classifier("classifier.1", FEATURES, init, device)?)
    } else {
        None
    };
    Ok(ConvNet { blocks, classifier })
}
