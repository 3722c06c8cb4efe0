//! The threaded build (feature `threads`, `./build.sh test-wasm` runs these on it): rayon's pool
//! of Web Workers starts, and the CPU device's parallel paths — the CPU plan's per-image loop,
//! burn flex's matrix products inside MiniLM, training — give what the one-thread build gives.
//! Their names start with `threaded_`: build.sh runs only them on this build, so the pool is
//! started before anything else touches rayon (its global pool can be set only once).

use std::cell::Cell;

use burn::tensor::Device;

use kindling::backbone::{Backbone, BackboneSpec, imagenet_top_k};
use kindling::data::image::Rgba;
use kindling::device::{DevicePreference, acquire};
use kindling::rng::Rng;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use super::{
    COFFEE, MINILM, MOBILENET_V2, assert_cpu_training_converges, assert_minilm_matches_reference,
};

const THREADS: usize = 2;

thread_local! {
    static POOL_STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Starts the pool once per test instance, as worker.js does once per worker.
async fn pool() {
    if POOL_STARTED.with(Cell::get) {
        return;
    }
    JsFuture::from(kindling::web::init_thread_pool(THREADS))
        .await
        .expect("initThreadPool");
    POOL_STARTED.with(|s| s.set(true));
    assert_eq!(rayon::current_num_threads(), THREADS);
}

#[wasm_bindgen_test]
async fn threaded_pool_starts_and_the_cpu_device_names_its_threads() {
    pool().await;
    let cpu = acquire(DevicePreference::Cpu, None).await.unwrap();
    assert_eq!(cpu.info.description, "CPU, 2 threads (wasm SIMD)");
}

/// A batch is shared out image by image over the pool; each image alone runs on one thread.
/// Both give the same features, and the photo is still an espresso.
#[wasm_bindgen_test]
async fn threaded_mobilenet_batch_matches_images_one_at_a_time() {
    pool().await;
    let cpu = acquire(DevicePreference::Cpu, None).await.unwrap();
    let spec = BackboneSpec::MobilenetV2;
    let net = Backbone::load(&spec, MOBILENET_V2, &cpu.device).unwrap();
    let png = image::load_from_memory(COFFEE).unwrap().to_rgba8();
    let (w, h) = png.dimensions();
    let photo = Rgba::new(w as usize, h as usize, png.into_raw()).unwrap();
    let top = imagenet_top_k(&spec, &net, &photo, 3, &cpu.device)
        .await
        .unwrap();
    assert_eq!(top[0].0, 967, "coffee is an espresso on 2 threads: {top:?}");

    let pre = spec.preprocess().unwrap();
    let n = pre.len();
    let mut rng = Rng::new(5);
    let mut rows = pre.eval(&photo);
    for _ in 1..4 {
        rows.extend((0..n).map(|_| rng.normal()));
    }
    let batched = features(&net, rows.clone(), 4, &cpu.device).await;
    let mut single = Vec::new();
    for image in rows.chunks(n) {
        single.extend(features(&net, image.to_vec(), 1, &cpu.device).await);
    }
    assert_eq!(batched.len(), single.len());
    let worst = batched
        .iter()
        .zip(&single)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "batch vs one at a time: {worst}");
}

async fn features(net: &Backbone, rows: Vec<f32>, batch: usize, device: &Device) -> Vec<f32> {
    net.infer(rows, batch, device)
        .into_features()
        .into_data_async()
        .await
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap()
}

#[wasm_bindgen_test]
async fn threaded_minilm_embeddings_match_the_reference_on_the_cpu() {
    pool().await;
    let cpu = acquire(DevicePreference::Cpu, None).await.unwrap();
    let spec = BackboneSpec::Bert {
        heads: 12,
        max_len: 128,
        normalize: true,
    };
    let net = Backbone::load(&spec, MINILM, &cpu.device).unwrap();
    assert_minilm_matches_reference(&net, &cpu.device, "the threaded CPU device").await;
}

#[wasm_bindgen_test]
async fn threaded_cpu_training_converges() {
    pool().await;
    assert_cpu_training_converges().await;
}
