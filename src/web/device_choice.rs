//! `measureDevice` and `fastestDevice`: the worker's choice of device by measurement for `auto`
//! (www/worker.js), on the core's `device_speed`.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::{from_js, to_js};
use crate::backbone::{Backbone, BackboneSpec};
use crate::device::{DevicePreference, acquire};
use crate::device_speed::{DeviceSpeed, fastest, forward_ms_per_example};
use crate::error::Error;
use crate::rng::Rng;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureOptions {
    backbone: BackboneSpec,
    device: DevicePreference,
    #[serde(default)]
    adapter_info: Option<String>,
}

/// Milliseconds per example of the backbone's forward pass on `options.device` ("cpu" or
/// "webgpu"), over a few neutral examples after a warm-up; `weights` as `Project.create` takes
/// them (random weights without: the speed is the same).
#[wasm_bindgen(js_name = measureDevice)]
pub async fn measure_device(options: JsValue, weights: Option<Vec<u8>>) -> Result<f64, JsError> {
    let options: MeasureOptions = from_js(options, "options")?;
    if options.device == DevicePreference::Auto {
        return Err(Error::config("device", "measure one device: \"cpu\" or \"webgpu\"").into());
    }
    let compute = acquire(options.device, options.adapter_info.as_deref()).await?;
    let backbone = match &weights {
        Some(bytes) => Backbone::load(&options.backbone, bytes, &compute.device)?,
        None => Backbone::build(&options.backbone, &mut Rng::new(0), &compute.device)?,
    };
    Ok(forward_ms_per_example(&backbone, &compute.device).await?)
}

/// The fastest of `[{kind, ms_per_example}, …]` (a tie goes to the first), or an error naming
/// what is wrong with the figures.
#[wasm_bindgen(js_name = fastestDevice)]
pub fn fastest_device(measured: JsValue) -> Result<JsValue, JsError> {
    let measured: Vec<DeviceSpeed> = from_js(measured, "measured")?;
    match fastest(&measured) {
        Some(speed) => to_js(speed),
        None => Err(Error::config(
            "measured",
            "needs at least one device, each with a finite time per example of 0 or more",
        )
        .into()),
    }
}
