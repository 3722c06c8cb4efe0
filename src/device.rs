//! Choosing the compute device: WebGPU when a hardware adapter exists, burn's `flex` CPU backend
//! otherwise or when asked. The wgpu runtime can be initialised only once per page (or worker),
//! so its outcome is kept and reused.

#[cfg(feature = "gpu")]
use std::cell::RefCell;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevicePreference {
    /// WebGPU on a hardware adapter; the CPU when there is none or the adapter is a software
    /// renderer (measured slower than the CPU backend for these models).
    #[default]
    Auto,
    /// WebGPU, even on a software adapter; an error when there is no adapter at all.
    Webgpu,
    /// The CPU backend.
    Cpu,
}

/// The device in use, as reported to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// "webgpu" or "cpu".
    pub kind: String,
    /// Adapter name and backend, or the CPU backend's name.
    pub description: String,
    /// Why this device was chosen (e.g. a fallback and its cause).
    pub reason: String,
}

/// A device plus its description. Clone freely: it is a handle.
#[derive(Clone, Debug)]
pub struct ComputeDevice {
    pub device: Device,
    pub info: DeviceInfo,
}

#[derive(Clone)]
struct GpuOutcome {
    device: Option<Device>,
    description: String,
    software: bool,
}

#[cfg(feature = "gpu")]
thread_local! {
    static GPU: RefCell<Option<GpuOutcome>> = const { RefCell::new(None) };
}

/// "CPU, N threads": the threads of rayon's pool, which burn flex's kernels and the CPU plan share
/// (every core natively; in a tab the Web Workers of the threaded build, or one thread).
pub fn cpu_description() -> String {
    let threads = rayon::current_num_threads();
    let unit = if threads == 1 { "thread" } else { "threads" };
    if cfg!(target_arch = "wasm32") {
        format!("CPU, {threads} {unit} (wasm SIMD)")
    } else {
        format!("CPU, {threads} {unit}")
    }
}

fn cpu(reason: String) -> ComputeDevice {
    ComputeDevice {
        device: Device::flex(),
        info: DeviceInfo {
            kind: "cpu".into(),
            description: cpu_description(),
            reason,
        },
    }
}

/// A build without the `gpu` feature (the threaded wasm build, a default native build) has no GPU
/// runtime: `auto` uses the CPU.
#[cfg(not(feature = "gpu"))]
async fn gpu(_hint: Option<&str>) -> GpuOutcome {
    GpuOutcome {
        device: None,
        description: if cfg!(target_arch = "wasm32") {
            "the threaded build has no WebGPU (the one-thread build has it)".into()
        } else {
            "this native build has no GPU runtime (build with `--features gpu`)".into()
        },
        software: false,
    }
}

/// `hint` describes the adapter when wgpu cannot (in browsers its adapter info is mostly empty;
/// the page reads `GPUAdapter.info` and passes it on).
#[cfg(feature = "gpu")]
async fn gpu(hint: Option<&str>) -> GpuOutcome {
    if let Some(known) = GPU.with(|g| g.borrow().clone()) {
        return known;
    }
    let outcome = match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            let shown = if info.name.trim().is_empty() {
                hint.unwrap_or("unnamed adapter").to_string()
            } else {
                info.name.clone()
            };
            let name = shown.to_lowercase();
            let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu
                || ["swiftshader", "llvmpipe", "lavapipe", "basic render"]
                    .iter()
                    .any(|s| name.contains(s));
            GpuOutcome {
                device: Some(device),
                description: if info.driver.is_empty() {
                    format!("{shown} ({:?})", info.backend)
                } else {
                    format!("{shown} ({:?}, {})", info.backend, info.driver)
                },
                software,
            }
        }
        Err(e) => GpuOutcome {
            device: None,
            description: format!("{e}"),
            software: false,
        },
    };
    GPU.with(|g| *g.borrow_mut() = Some(outcome.clone()));
    outcome
}

/// Opens the device for `preference`. Safe to call repeatedly: WebGPU is initialised once.
/// `adapter_hint` names the adapter where wgpu reports no name (see [`gpu`]).
pub async fn acquire(
    preference: DevicePreference,
    adapter_hint: Option<&str>,
) -> Result<ComputeDevice> {
    if preference == DevicePreference::Cpu {
        return Ok(cpu("chosen by the user".into()));
    }
    let outcome = gpu(adapter_hint).await;
    match (outcome.device, preference) {
        (Some(device), DevicePreference::Webgpu) => Ok(ComputeDevice {
            device,
            info: DeviceInfo {
                kind: "webgpu".into(),
                description: outcome.description,
                reason: "chosen by the user".into(),
            },
        }),
        (Some(device), _) if !outcome.software => Ok(ComputeDevice {
            device,
            info: DeviceInfo {
                kind: "webgpu".into(),
                description: outcome.description,
                reason: "hardware WebGPU adapter found".into(),
            },
        }),
        (Some(_), _) => Ok(cpu(format!(
            "the WebGPU adapter is a software renderer ({}), slower than the CPU backend; choose WebGPU to use it anyway",
            outcome.description
        ))),
        (None, DevicePreference::Webgpu) => Err(Error::Device(format!(
            "WebGPU is not available here ({}); use a browser with WebGPU enabled or choose the CPU",
            outcome.description
        ))),
        (None, _) => Ok(cpu(format!(
            "WebGPU is not available ({})",
            outcome.description
        ))),
    }
}
