//! What every command needs before it works: the backbone and its weight files, the tokenizer of
//! a text backbone, and the device.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use clap::{Args, ValueEnum};
use kindling::backbone::BackboneSpec;
use kindling::data::Tokenizer;
use kindling::device::{ComputeDevice, DeviceInfo, DevicePreference, acquire};
use kindling::{Error, Result};

/// The pretrained backbones by the names the page uses.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BackboneName {
    MobilenetV2,
    EfficientnetLite0,
    Minilm,
}

/// One device named with `--device`: `cpu`, `wgpu` (the default adapter) or `wgpu:N` (the N-th
/// discrete GPU), `cuda` or `cuda:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceName {
    /// burn's CPU backend on every core.
    Cpu,
    /// burn's wgpu backend (Vulkan, Metal, DX12): in builds with `--features gpu`.
    Wgpu(Option<usize>),
    /// burn's CUDA backend: in builds with `--features cuda`.
    Cuda(usize),
}

impl std::str::FromStr for DeviceName {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (kind, index) = match text.split_once(':') {
            Some((kind, index)) => match index.parse::<usize>() {
                Ok(i) => (kind, Some(i)),
                Err(_) => return Err(format!("`{index}` is not a device number (cuda:0, wgpu:1)")),
            },
            None => (text, None),
        };
        match (kind, index) {
            ("cpu", None) => Ok(Self::Cpu),
            ("wgpu", index) => Ok(Self::Wgpu(index)),
            ("cuda", index) => Ok(Self::Cuda(index.unwrap_or(0))),
            ("cpu", Some(_)) => Err("the CPU device has no number: write cpu".into()),
            _ => Err(format!(
                "`{text}` is not a device: write cpu, wgpu, wgpu:N, cuda or cuda:N, several separated by commas"
            )),
        }
    }
}

impl std::fmt::Display for DeviceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Wgpu(None) => write!(f, "wgpu"),
            Self::Wgpu(Some(i)) => write!(f, "wgpu:{i}"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
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
    /// Where to compute: cpu, wgpu[:N] or cuda[:N]. `kindling train` takes several, separated
    /// by commas (cuda:0,cuda:1), and spreads each fine-tuning batch over them.
    #[arg(long, value_delimiter = ',', default_value = "cpu")]
    pub device: Vec<DeviceName>,
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

/// The one device of a command that runs on one (without autodiff).
pub fn device(names: &[DeviceName]) -> Result<Device> {
    match names {
        [name] => open(*name),
        _ => Err(Error::config(
            "device",
            "this command runs on one device: name one (only `kindling train` takes several)",
        )),
    }
}

/// The devices `kindling train` spreads its batches over (without autodiff): the first keeps
/// the model, the cache and the optimiser.
pub fn devices(names: &[DeviceName]) -> Result<Vec<Device>> {
    if names.is_empty() {
        return Err(Error::config("device", "name a device: cpu, wgpu or cuda"));
    }
    names.iter().map(|&name| open(name)).collect()
}

fn open(name: DeviceName) -> Result<Device> {
    let device = match name {
        DeviceName::Cpu => pollster::block_on(acquire(DevicePreference::Cpu, None))?,
        DeviceName::Wgpu(None) if cfg!(feature = "gpu") => {
            pollster::block_on(acquire(DevicePreference::Webgpu, None))?
        }
        DeviceName::Wgpu(None) => return Err(missing(name, "gpu")),
        DeviceName::Wgpu(Some(index)) => numbered_gpu(name, index)?,
        DeviceName::Cuda(index) => cuda(name, index)?,
    };
    eprintln!(
        "device {name}: {} ({})",
        device.info.description, device.info.reason
    );
    Ok(device.device)
}

#[cfg(feature = "gpu")]
fn numbered_gpu(name: DeviceName, index: usize) -> Result<ComputeDevice> {
    use burn::tensor::DeviceKind;
    let device = started(name, Device::wgpu(DeviceKind::DiscreteGpu(index)))?;
    Ok(named(
        device,
        "wgpu",
        format!("discrete GPU {index} (wgpu)"),
    ))
}

#[cfg(not(feature = "gpu"))]
fn numbered_gpu(name: DeviceName, _index: usize) -> Result<ComputeDevice> {
    Err(missing(name, "gpu"))
}

#[cfg(feature = "cuda")]
fn cuda(name: DeviceName, index: usize) -> Result<ComputeDevice> {
    let device = started(name, Device::cuda(index))?;
    Ok(named(device, "cuda", format!("CUDA device {index}")))
}

#[cfg(not(feature = "cuda"))]
fn cuda(name: DeviceName, _index: usize) -> Result<ComputeDevice> {
    Err(missing(name, "cuda"))
}

#[allow(dead_code)] // in builds without `gpu` and `cuda`
fn missing(name: DeviceName, feature: &str) -> Error {
    Error::Device(format!(
        "this kindling was built without {name}'s runtime: build it with `--features {feature}` (README, Command line), or use --device cpu"
    ))
}

#[allow(dead_code)] // in builds without `gpu` and `cuda`
fn named(device: Device, kind: &str, description: String) -> ComputeDevice {
    ComputeDevice {
        device,
        info: DeviceInfo {
            kind: kind.into(),
            description,
            reason: "chosen by the user".into(),
        },
    }
}

/// `device` once one small computation ran on it: burn's GPU runtimes start lazily and panic
/// when the driver or the device is missing, which becomes an error that says so here. cubecl
/// starts a device on a thread of its own, whose panic the caller sees only as a closed channel:
/// the hook keeps the first panic message of any thread, the reason worth reporting. (Swapping
/// the process's hook is fine here: the CLI opens its devices one after another, before any
/// other work.)
#[allow(dead_code)] // in builds without `gpu` and `cuda`
fn started(name: DeviceName, device: Device) -> Result<Device> {
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = first.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut first) = seen.lock() {
            first.get_or_insert_with(|| panic_text(info.payload()));
        }
    }));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], &device)
            .sum()
            .into_data()
    }));
    std::panic::set_hook(previous);
    match outcome {
        Ok(_) => Ok(device),
        Err(payload) => {
            let why = first
                .lock()
                .ok()
                .and_then(|mut first| first.take())
                .unwrap_or_else(|| panic_text(payload.as_ref()));
            Err(Error::Device(format!(
                "{name} did not start ({why}): check its driver and number, or use --device cpu"
            )))
        }
    }
}

#[allow(dead_code)] // in builds without `gpu` and `cuda`
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "no message".into())
}
