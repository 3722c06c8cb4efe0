//! What every command needs before it works: the backbone and its weight files, the tokenizer of
//! a text backbone, and the device.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use clap::{Args, ValueEnum};
use kindling::backbone::BackboneSpec;
use kindling::data::Tokenizer;
use kindling::device::{DevicePreference, acquire};
use kindling::{Error, Result};

/// The pretrained backbones by the names the page uses.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BackboneName {
    MobilenetV2,
    EfficientnetLite0,
    Minilm,
}

/// Where the work runs.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DeviceName {
    /// burn's CPU backend on every core.
    Cpu,
    /// burn's wgpu backend (Vulkan, Metal, DX12): in builds with `--features gpu`.
    Wgpu,
}

/// The pretrained weights (and, for text, the vocabulary) and the device.
#[derive(Args)]
pub struct WeightArgs {
    /// The backbone's pretrained weights (safetensors), e.g.
    /// ~/.cache/kindling/weights/mobilenet_v2.safetensors.
    #[arg(long)]
    pub weights: PathBuf,
    /// A text backbone's vocab.txt [default: vocab.txt beside the weights].
    #[arg(long)]
    pub vocab: Option<PathBuf>,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceName,
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::Data(format!("cannot read the {what} {}: {e}", path.display())))
}

/// The spec of a named backbone; a text backbone reads its heads from the config.json beside
/// the weights when there is one.
pub fn spec(name: BackboneName, weights: &Path, max_len: usize) -> Result<BackboneSpec> {
    Ok(match name {
        BackboneName::MobilenetV2 => BackboneSpec::MobilenetV2,
        BackboneName::EfficientnetLite0 => BackboneSpec::EfficientnetLite0,
        BackboneName::Minilm => {
            let config = weights.with_file_name("config.json");
            match std::fs::read_to_string(&config) {
                Ok(json) => BackboneSpec::bert_from_config(&json, max_len)?,
                Err(_) => BackboneSpec::Bert {
                    heads: 12,
                    max_len,
                    normalize: true,
                },
            }
        }
    })
}

/// The weight bytes, and the tokenizer when `spec` takes text.
pub fn weights(spec: &BackboneSpec, args: &WeightArgs) -> Result<(Vec<u8>, Option<Tokenizer>)> {
    let bytes = read(&args.weights, "weights")?;
    let tokenizer = match spec {
        BackboneSpec::Bert { .. } => {
            let path = args
                .vocab
                .clone()
                .unwrap_or_else(|| args.weights.with_file_name("vocab.txt"));
            let text = String::from_utf8(read(&path, "vocabulary")?)
                .map_err(|_| Error::Weights(format!("{} is not UTF-8 text", path.display())))?;
            Some(Tokenizer::from_vocab(&text)?)
        }
        _ => None,
    };
    Ok((bytes, tokenizer))
}

/// The device (without autodiff).
pub fn device(name: DeviceName) -> Result<Device> {
    let preference = match name {
        DeviceName::Cpu => DevicePreference::Cpu,
        DeviceName::Wgpu => DevicePreference::Webgpu,
    };
    let device = pollster::block_on(acquire(preference, None))?;
    eprintln!(
        "device: {} ({})",
        device.info.description, device.info.reason
    );
    Ok(device.device)
}
