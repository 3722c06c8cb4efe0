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
/// runs_ms }`. `on_timed`, if given, is called once just before the timed runs begin (after the
/// cold first one), so that the page counts the GPU work of the timed runs alone.
#[wasm_bindgen]
pub async fn benchmark(
    job: String,
    options: JsValue,
    on_timed: Option<js_sys::Function>,
) -> Result<JsValue, JsError> {
    let options: BenchOptions = if options.is_undefined() {
        BenchOptions::default()
    } else {
        from_js(options, "options")?
    };
    let runs = options.runs.max(1);
    let compute = device::acquire(options.device, None).await?;
    let inner = compute.device.clone();
    let autodiff = inner.clone().autodiff();
    // What the page's callback throws is not the job's concern: the counts are then whole-job.
    let mut timed = || {
        if let Some(f) = &on_timed {
            let _ = f.call0(&JsValue::NULL);
        }
    };
    let result = match job.as_str() {
        "head" => bench::head_training(&autodiff, 10, &mut timed).await?,
        "features" => bench::feature_extraction(&inner, 16, runs, &mut timed).await?,
        "finetune" => bench::fine_tune_step(&autodiff, runs, &mut timed).await?,
        "embed" => bench::sentence_embedding(&inner, 32, 128, runs, true, &mut timed).await?,
        "product_nn" => bench::head_product(&inner, false, runs, &mut timed).await?,
        "product_tn" => bench::head_product(&inner, true, runs, &mut timed).await?,
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
