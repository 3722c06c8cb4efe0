//! MobileNetV2 (torchvision architecture, width 1.0): a stem, 17 inverted-residual blocks and a
//! final 1×1 convolution to 1280 channels — 19 blocks the engine freezes or trains one at a time —
//! then global average pooling to 1280-d features. Weight names are torchvision's
//! (`features.N…`, `classifier.1.*`); BatchNorm ε = 1e-5; input: ImageNet mean/std.

use burn::tensor::Device;

use super::convnet::{ConvBlock, ConvBn, ConvNet, ConvSpec, imagenet_classifier, single_block};
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
            blocks.push(ConvBlock {
                layers,
                residual: stride == 1 && cin == c,
            });
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
