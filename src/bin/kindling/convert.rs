//! The weight conversion the build uses, and ImageNet top-5 as a check of converted weights.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kindling::backbone::pth::pth_to_safetensors;
use kindling::backbone::{Backbone, BackboneSpec, imagenet_top_k};
use kindling::data::image::decode_file;
use kindling::{Error, Result};

use crate::setup::read;

pub fn convert(input: &Path, output: &Path) -> Result<()> {
    let meta = BTreeMap::from([(
        "source".to_string(),
        input
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
    )]);
    let bytes = pth_to_safetensors(input, meta)?;
    std::fs::write(output, &bytes)
        .map_err(|e| Error::Weights(format!("cannot write {}: {e}", output.display())))?;
    println!(
        "wrote {} ({:.1} MB)",
        output.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

pub fn imagenet(architecture: &str, weights: &Path, images: &[PathBuf]) -> Result<()> {
    let spec = match architecture {
        "mobilenet_v2" => BackboneSpec::MobilenetV2,
        "efficientnet_lite0" => BackboneSpec::EfficientnetLite0,
        other => {
            return Err(Error::config(
                "architecture",
                format!("unknown '{other}'; use mobilenet_v2 or efficientnet_lite0"),
            ));
        }
    };
    let device = burn::tensor::Device::flex();
    let backbone = Backbone::load(&spec, &read(weights, "weights")?, &device)?;
    for path in images {
        match decode_file(path) {
            Ok(img) => {
                let top = pollster::block_on(imagenet_top_k(&spec, &backbone, &img, 5, &device))?;
                println!("{}: {top:?}", path.display());
            }
            Err(e) => eprintln!("skipped {e}"),
        }
    }
    Ok(())
}
