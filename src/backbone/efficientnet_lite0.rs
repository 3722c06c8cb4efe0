//! EfficientNet-Lite0: EfficientNet-B0 without squeeze-excitation and with ReLU6 — a stem, 16
//! MBConv blocks and a 1×1 head convolution to 1280 channels (18 blocks), then average pooling.
//! Weight names are lukemelas-style (`_conv_stem`, `_blocks.N._expand_conv`, `_fc`);
//! BatchNorm ε = 1e-3; input (x − 127) / 128.

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
    name: "EfficientNet-Lite0",
    weight_probe: "_conv_head.weight",
    classifier_probe: "_fc.weight",
    preprocess: Preprocess {
        size: 224,
        resize: 256,
        mean: [127.0 / 255.0; 3],
        std: [128.0 / 255.0; 3],
        whole_cut_outs: true,
    },
    build,
};

/// Per stage: expansion, kernel, first stride, output channels, repeats.
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
];
const STEM: usize = 32;
pub const FEATURES: usize = 1280;
const EPS: f32 = 1e-3;

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
        "_conv_stem",
        "_bn0",
        init,
        device,
    )?];
    let (mut cin, mut b) = (STEM, 0);
    for (expand, kernel, s, cout, n) in STAGES {
        for i in 0..n {
            let p = format!("_blocks.{b}");
            let names = InvertedResidualNames {
                expand: (expand != 1).then(|| (format!("{p}._expand_conv"), format!("{p}._bn0"))),
                depthwise: (format!("{p}._depthwise_conv"), format!("{p}._bn1")),
                project: (format!("{p}._project_conv"), format!("{p}._bn2")),
            };
            let shape = InvertedResidual {
                cin,
                cout,
                expansion: expand,
                kernel,
                stride: if i == 0 { s } else { 1 },
                bn_eps: EPS,
            };
            blocks.push(inverted_residual(shape, names, init, device)?);
            cin = cout;
            b += 1;
        }
    }
    blocks.push(single_block(
        conv(cin, FEATURES, 1, 1, 1, true),
        "_conv_head",
        "_bn1",
        init,
        device,
    )?);
    let classifier = if with_classifier {
        Some(imagenet_classifier("_fc", FEATURES, init, device)?)
    } else {
        None
    };
    Ok(ConvNet { blocks, classifier })
}
