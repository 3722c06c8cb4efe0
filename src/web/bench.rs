//! The browser benchmark's entry point (`benches/browser/` runs it beside TF.js).

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::{from_js, to_js};
use crate::bench;
use crate::device::{self, DevicePreference};
use crate::error::Error;

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BenchOptions {
    device: DevicePreference,
    /// Timed runs after the first (`head` always trains 10 epochs).
    runs: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            device: DevicePreference::Webgpu,
            runs: 5,
        }
    }
}

/// Runs one benchmark job — `head`, `features`, `finetune`, `embed`, `product_nn` or `product_tn`
/// — on `options.device` (`webgpu` or `cpu`); resolves to `{ job, device, value, unit, first_ms,
/// runs_ms }`.
#[wasm_bindgen]
pub async fn benchmark(job: String, options: JsValue) -> Result<JsValue, JsError> {
    let options: BenchOptions = if options.is_undefined() {
        BenchOptions::default()
    } else {
        from_js(options, "options")?
    };
    let runs = options.runs.max(1);
    let compute = device::acquire(options.device, None).await?;
    let inner = compute.device.clone();
    let autodiff = inner.clone().autodiff();
    let result = match job.as_str() {
        "head" => bench::head_training(&autodiff, 10).await?,
        "features" => bench::feature_extraction(&inner, 16, runs).await?,
        "finetune" => bench::fine_tune_step(&autodiff, runs).await?,
        "embed" => bench::sentence_embedding(&inner, 32, 128, runs, true).await?,
        "product_nn" => bench::head_product(&inner, false, runs).await?,
        "product_tn" => bench::head_product(&inner, true, runs).await?,
        other => {
            return Err(Error::config(
                "job",
                format!(
                    "unknown job `{other}`; use head, features, finetune, embed, product_nn or product_tn"
                ),
            )
            .into());
        }
    };
    #[derive(serde::Serialize)]
    struct WithDevice<'a> {
        device: &'a str,
        #[serde(flatten)]
        result: bench::JobResult,
    }
    to_js(&WithDevice {
        device: &compute.info.kind,
        result,
    })
}
