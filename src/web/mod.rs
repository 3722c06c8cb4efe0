//! THE ONLY MODULE THAT KNOWS JAVASCRIPT. It turns the plain-Rust core into a wasm-bindgen API:
//! an async factory, typed arrays in, plain objects out (serde-wasm-bindgen), crate errors as JS
//! `Error`s carrying the crate's message.
//!
//! This file is the API's surface: [`Project`], whose methods hand the project's state
//! (`state.rs`, with `files.rs` and `text.rs`) to one call at a time. The state sits in a
//! `RefCell` that each call borrows with `try_borrow`, so a call made while another is still
//! running (an awaited `trainEpoch`, say) gets a clear "busy" error. Without it, wasm-bindgen's
//! own borrow check answers with "recursive use of an object detected…".

use std::cell::{Ref, RefCell, RefMut};

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use state::ProjectState;

mod bench;
mod create;
mod device_choice;
mod files;
mod images;
mod recipes;
mod state;
mod sweeps;
mod text;

pub use bench::benchmark;
pub use device_choice::{fastest_device, measure_device};
pub use text::text_columns;
/// The threaded build's `initThreadPool(n)`: starts rayon's pool as `n` Web Workers sharing this
/// instance's memory. worker.js awaits it once, in the worker that owns the wasm (blocking waits
/// are allowed there; the page's main thread never loads the threaded build).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("internal: could not convert a result for JS: {e}")))
}

/// Reads a plain JS object (settings, options) into `T`, refusing names `T` does not have.
///
/// serde-wasm-bindgen looks up only the fields a struct names, so `deny_unknown_fields` never
/// sees a misspelt one (`{epoch: 3}` was silently ignored). The object is therefore also read
/// through serde_json, whose reader reports an unknown name with the accepted ones; its other
/// complaints are left to serde-wasm-bindgen, which reads numbers JSON cannot hold (`Infinity`,
/// refused later by validation with the field's name).
fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    let refuse = |e: &dyn std::fmt::Display| JsError::new(&format!("setting `{what}`: {e}"));
    if let Ok(json) = serde_wasm_bindgen::from_value::<serde_json::Value>(value.clone()) {
        if let Err(e) = serde_json::from_value::<T>(json) {
            let text = e.to_string();
            if text.starts_with("unknown field") || text.starts_with("unknown variant") {
                return Err(refuse(&text));
            }
        }
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| refuse(&e))
}

/// The device `preference` ("auto", "webgpu" or "cpu") gets in this build — `{kind, description,
/// reason}` — without creating a project. worker.js asks the one-thread build, which has WebGPU,
/// whether `auto` would take the GPU before it loads the threaded build for a CPU run (README,
/// Threads). A GPU device opened here is kept for the project that follows.
#[wasm_bindgen(js_name = chooseDevice)]
pub async fn choose_device(
    preference: JsValue,
    adapter_info: Option<String>,
) -> Result<JsValue, JsError> {
    let preference: crate::device::DevicePreference = from_js(preference, "device")?;
    let device = crate::device::acquire(preference, adapter_info.as_deref()).await?;
    to_js(&device.info)
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// A project: its examples, training settings, pretrained weights, the current training run and
/// the trained (or imported) model. Called `Trainer` before 0.2.
#[wasm_bindgen]
pub struct Project {
    state: RefCell<ProjectState>,
}

fn busy() -> JsError {
    JsError::new(
        "busy: another call on this project (training, evaluation, export…) is still running; \
         await it before calling again",
    )
}

impl Project {
    fn state(&self) -> Result<Ref<'_, ProjectState>, JsError> {
        self.state.try_borrow().map_err(|_| busy())
    }

    fn state_mut(&self) -> Result<RefMut<'_, ProjectState>, JsError> {
        self.state.try_borrow_mut().map_err(|_| busy())
    }
}

#[wasm_bindgen]
impl Project {
    /// Opens the device and prepares an empty project.
    /// `options = { backbone: {kind: "features", dim} | {kind: "mobilenet_v2"} | …, device:
    /// "auto"|"webgpu"|"cpu", config: {...}, augment?, vocab?, text_augment? }`.
    /// `weights`: the backbone's pretrained safetensors (required for pretrained backbones).
    pub async fn create(options: JsValue, weights: Option<Vec<u8>>) -> Result<Project, JsError> {
        let state = ProjectState::create(options, weights).await?;
        Ok(Project {
            state: RefCell::new(state),
        })
    }

    /// The device in use: `{kind, description, reason}`.
    #[wasm_bindgen(getter)]
    pub fn device(&self) -> Result<JsValue, JsError> {
        self.state()?.device()
    }

    /// Replaces the training settings for the next run (validated now).
    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&self, config: JsValue) -> Result<(), JsError> {
        self.state_mut()?.set_config(config)
    }

    /// Adds examples: `values` holds one row per label; `labels[i]` indexes `classes`.
    /// All or nothing: on error no example is added. Returns the number of examples held.
    #[wasm_bindgen(js_name = addExamples)]
    pub fn add_examples(
        &self,
        values: &[f32],
        labels: &[u32],
        classes: Vec<String>,
    ) -> Result<usize, JsError> {
        self.state_mut()?.add_examples(values, labels, classes)
    }

    /// Adds one image (RGBA bytes, as `ImageData.data` gives) of class `class`; on error nothing
    /// is added. The pixels are not kept: the caller keeps the image and hands the same pixels
    /// over when a run asks (`inputRequest`, `supplyImages`). Returns the number of examples held.
    #[wasm_bindgen(js_name = addImage)]
    pub fn add_image(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
        class: String,
    ) -> Result<usize, JsError> {
        self.state_mut()?.add_image(rgba, width, height, class)
    }

    /// What the current run needs before its next step: `{indices, augmented}` — the examples
    /// whose images to hand over with `supplyImages` (for a training batch when `augmented`) —
    /// or `null` when `step()` can run.
    #[wasm_bindgen(js_name = inputRequest)]
    pub fn input_request(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.input_request()
    }

    /// After the images `inputRequest()` names were supplied outside training (a restored run,
    /// before `evaluate()` or an export), caches their part of the frozen backbone; `false` when
    /// the cache was complete already and nothing was asked. Loop: `inputRequest()`,
    /// `supplyImages(…)`, `cacheNextChunk()`, until it returns `false`.
    #[wasm_bindgen(js_name = cacheNextChunk)]
    pub fn cache_next_chunk(&self) -> Result<bool, JsError> {
        self.state_mut()?.cache_next_chunk()
    }

    /// The images `inputRequest()` names, in its order: their RGBA bytes one after another, and
    /// each one's width and height (the pixels `addImage` was given). On error nothing changes.
    #[wasm_bindgen(js_name = supplyImages)]
    pub fn supply_images(
        &self,
        indices: &[u32],
        rgba: &[u8],
        widths: &[u32],
        heights: &[u32],
    ) -> Result<(), JsError> {
        self.state_mut()?
            .supply_images(indices, rgba, widths, heights)
    }

    /// Declares a class before it has examples (so an empty class is reported, not forgotten).
    #[wasm_bindgen(js_name = addClass)]
    pub fn add_class(&self, name: String) -> Result<(), JsError> {
        self.state_mut()?.add_class(name)
    }

    /// Examples per class: `[{name, count}]`.
    #[wasm_bindgen(js_name = classCounts)]
    pub fn class_counts(&self) -> Result<JsValue, JsError> {
        self.state()?.class_counts()
    }

    /// Starts a new run on the current examples and config (a trained model stays usable until
    /// the new run produces one).
    pub fn start(&self) -> Result<(), JsError> {
        self.state_mut()?.start()
    }

    /// One training batch; returns the epoch report when the batch ended an epoch, else `null`.
    pub async fn step(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.step().await
    }

    /// Runs batches until the current epoch ends; returns its report. An image project's run
    /// asks for images between steps (`inputRequest`): drive it with `step()` instead; here it
    /// stops with an error naming what to supply.
    #[wasm_bindgen(js_name = trainEpoch)]
    pub async fn train_epoch(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.train_epoch().await
    }

    /// Whether the current run has ended (last epoch, early stop or divergence).
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> Result<bool, JsError> {
        Ok(self.state()?.finished())
    }

    /// The epoch reports of the current run so far (`[]` before any).
    #[wasm_bindgen(getter)]
    pub fn history(&self) -> Result<JsValue, JsError> {
        self.state()?.history()
    }

    /// While a run caches what its frozen backbone blocks compute (before its first epoch, and
    /// again when gradual unfreezing shortens the frozen part): `{done, total}` examples; else
    /// `null`. Each `step()` meanwhile caches one chunk.
    #[wasm_bindgen(getter)]
    pub fn caching(&self) -> Result<JsValue, JsError> {
        self.state()?.caching()
    }

    /// The current run's cache of its frozen part's activations as a file (`null` while it is
    /// incomplete): keep it with the project and hand it to `importCache` in a later run on the
    /// same examples to skip decoding and running every example through the frozen blocks.
    #[wasm_bindgen(js_name = exportCache)]
    pub async fn export_cache(&self) -> Result<Option<Vec<u8>>, JsError> {
        self.state()?.export_cache().await
    }

    /// Gives the run just started a file from `exportCache`; refused with the reason (other
    /// examples, backbone, weights or frozen part) and nothing changed.
    #[wasm_bindgen(js_name = importCache)]
    pub fn import_cache(&self, bytes: &[u8]) -> Result<(), JsError> {
        self.state_mut()?.import_cache(bytes)
    }

    /// The current run's estimated peak memory in bytes, by what takes it: `{examples,
    /// frozen_blocks, trainable_blocks, cache_bytes, example_bytes, weights_bytes,
    /// optimizer_bytes, batch_bytes, total_bytes}`, or `null` before a run. `start()` refuses a
    /// run whose estimate exceeds what a tab can hold.
    #[wasm_bindgen(getter, js_name = memoryEstimate)]
    pub fn memory_estimate(&self) -> Result<JsValue, JsError> {
        self.state()?.memory_estimate()
    }

    /// Whether a run is under way that `step()` can continue (after a stop or
    /// `restoreCheckpoint`).
    #[wasm_bindgen(getter, js_name = canContinue)]
    pub fn can_continue(&self) -> Result<bool, JsError> {
        Ok(self.state()?.can_continue())
    }

    /// Full evaluation of the current run's model on its validation set.
    pub async fn evaluate(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.evaluate().await
    }

    /// Top-k classes with probabilities for each row of `values`.
    pub async fn predict(&self, values: &[f32], top_k: i32) -> Result<JsValue, JsError> {
        self.state()?.predict(values, top_k).await
    }

    /// Top-k classes with probabilities for one RGBA image (image backbones).
    #[wasm_bindgen(js_name = predictImage)]
    pub async fn predict_image(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
        top_k: i32,
    ) -> Result<JsValue, JsError> {
        self.state()?
            .predict_image(rgba, width, height, top_k)
            .await
    }

    /// The no-training baselines of the current run (nearest centroid and k-NN on the frozen
    /// backbone's features, on its validation split), once its whole-backbone cache is complete:
    /// `{nearest_centroid, knn, k}`, or `null` (the backbone is partly trained, or caching).
    pub async fn baselines(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.baselines().await
    }

    /// Class names in label order (of the examples, or of an imported model when there are none).
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Result<Vec<String>, JsError> {
        Ok(self.state()?.classes())
    }

    /// The model as one file (safetensors with its description), for download. `options`:
    /// `{precision: "f32" | "f16"}` (default f32; f16 halves the file, weights rounded to half
    /// precision).
    #[wasm_bindgen(js_name = exportModel)]
    pub async fn export_model(&self, options: JsValue) -> Result<Vec<u8>, JsError> {
        self.state()?.export_model(options).await
    }

    /// Loads a model file made by `exportModel`; afterwards `predict*` use it. Refused, with the
    /// reason, when it was made from another backbone or names other classes than the examples.
    #[wasm_bindgen(js_name = importModel)]
    pub fn import_model(&self, bytes: &[u8]) -> Result<JsValue, JsError> {
        self.state_mut()?.import_model(bytes)
    }

    /// A checkpoint of the current run (between epochs), to restore after a reload or a crash.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, JsError> {
        self.state()?.checkpoint().await
    }

    /// Restores a run from `checkpoint()` bytes, on the examples this project holds, with the
    /// project's augmentation; `step()`/`trainEpoch()` then continue it.
    #[wasm_bindgen(js_name = restoreCheckpoint)]
    pub fn restore_checkpoint(&self, checkpoint: &[u8]) -> Result<(), JsError> {
        self.state_mut()?.restore_checkpoint(checkpoint)
    }
}
