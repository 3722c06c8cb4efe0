//! Browser tests (wasm-bindgen-test in headless Chromium): the engine on the real WebGPU device.
#![cfg(target_arch = "wasm32")]

use kindling::backbone::{Backbone, BackboneSpec};
use kindling::config::Strategy;
use kindling::config::TrainConfig;
use kindling::data::Dataset;
use kindling::device::{DevicePreference, acquire};
use kindling::rng::Rng;
use kindling::train::TrainingRun;
use wasm_bindgen_test::*;

// The threaded build's tests run in a dedicated worker, as the page's threaded build does: a
// blocking wait (a contended lock) traps on a browser's main thread.
#[cfg(not(feature = "threads"))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(feature = "threads")]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[cfg(not(feature = "threads"))]
mod product;
#[cfg(feature = "threads")]
mod threads;
mod traps;

const DIM: usize = 16;

fn separable(per_class: usize) -> Dataset {
    let mut rng = Rng::new(11);
    let centres: Vec<Vec<f32>> = (0..3)
        .map(|_| (0..DIM).map(|_| rng.normal() * 2.0).collect())
        .collect();
    let mut d = Dataset::new(DIM);
    for i in 0..per_class * 3 {
        let row: Vec<f32> = centres[i % 3]
            .iter()
            .map(|&m| m + rng.normal() * 0.3)
            .collect();
        d.add(&row, &format!("class{}", i % 3)).unwrap();
    }
    d
}

/// Runs `step()` until an epoch ends, handing over the images the run asks for — as the worker
/// does — from `images`: the pixels given to `addImage` (RGBA, width, height), by example index.
/// Supplies the images the project's run asks for now, if it asks; whether it asked.
fn supply_requested(t: &kindling::web::Project, images: &[(Vec<u8>, usize, usize)]) -> bool {
    let request = t.input_request().unwrap();
    if request.is_null() {
        return false;
    }
    let request: serde_json::Value = serde_wasm_bindgen::from_value(request).unwrap();
    let indices: Vec<u32> = request["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as u32)
        .collect();
    let (mut rgba, mut widths, mut heights) = (Vec::new(), Vec::new(), Vec::new());
    for &i in &indices {
        let (pixels, w, h) = &images[i as usize];
        rgba.extend_from_slice(pixels);
        widths.push(*w as u32);
        heights.push(*h as u32);
    }
    t.supply_images(&indices, &rgba, &widths, &heights).unwrap();
    true
}

/// The first project's examples again, in its order: bag-0, trouser-0, bag-1, … trouser-3.
fn add_fashion_images(t: &kindling::web::Project, images: &[(Vec<u8>, usize, usize)]) {
    for (j, (rgba, w, h)) in images.iter().enumerate() {
        let class = ["bag", "trouser"][j % 2];
        t.add_image(rgba, *w, *h, class.into()).unwrap();
    }
}

async fn image_epoch(
    t: &kindling::web::Project,
    images: &[(Vec<u8>, usize, usize)],
) -> wasm_bindgen::JsValue {
    loop {
        if supply_requested(t, images) {
            continue;
        }
        let report = t.step().await.unwrap();
        if !report.is_null() {
            return report;
        }
    }
}

async fn train_on_webgpu(
    spec: BackboneSpec,
    strategy: Strategy,
) -> Vec<kindling::train::EpochReport> {
    let gpu = acquire(DevicePreference::Webgpu, None)
        .await
        .expect("WebGPU adapter");
    assert_eq!(gpu.info.kind, "webgpu");
    let device = gpu.device.autodiff();
    let backbone = Backbone::build(&spec, &mut Rng::new(1), &device).unwrap();
    let config = TrainConfig {
        strategy,
        epochs: 6,
        batch_size: 32,
        learning_rate: 2e-2,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut trainer = TrainingRun::new(config, backbone, separable(40), None, &device).unwrap();
    trainer.fit().await.unwrap()
}

#[wasm_bindgen_test]
async fn head_trains_on_webgpu() {
    let h = train_on_webgpu(
        BackboneSpec::Features { dim: DIM },
        Strategy::FeatureExtraction,
    )
    .await;
    // A linear head on frozen features is solved (the convex fit: its objective and gradient
    // are read back from the GPU at every L-BFGS evaluation) to its optimum.
    let last = h.last().unwrap();
    assert!(
        last.stopped
            .as_deref()
            .is_some_and(|s| s.contains("L-BFGS")),
        "the convex fit converges: {last:?}"
    );
    assert!(last.val_accuracy >= 0.95, "accuracy {}", last.val_accuracy);
}

#[wasm_bindgen_test]
async fn partial_fine_tuning_trains_on_webgpu() {
    let spec = BackboneSpec::ToyMlp {
        widths: vec![DIM, 32, 32, 32],
    };
    let h = train_on_webgpu(
        spec,
        Strategy::Partial {
            trainable_blocks: 2,
        },
    )
    .await;
    let last = h.last().unwrap();
    assert_eq!(last.trainable_blocks, 2);
    assert!(last.val_accuracy >= 0.95, "accuracy {}", last.val_accuracy);
}

#[wasm_bindgen_test]
async fn cpu_backend_trains_in_the_browser() {
    assert_cpu_training_converges().await;
}

/// A head on separable features trains to ≥ 95 % on the CPU device (one thread here; the
/// threaded build's test runs it on its pool).
async fn assert_cpu_training_converges() {
    let cpu = acquire(DevicePreference::Cpu, None).await.unwrap();
    assert_eq!(cpu.info.kind, "cpu");
    let device = cpu.device.autodiff();
    let backbone = Backbone::build(
        &BackboneSpec::Features { dim: DIM },
        &mut Rng::new(1),
        &device,
    )
    .unwrap();
    let config = TrainConfig {
        epochs: 5,
        learning_rate: 2e-2,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut trainer = TrainingRun::new(config, backbone, separable(40), None, &device).unwrap();
    let h = trainer.fit().await.unwrap();
    assert!(h.last().unwrap().val_accuracy >= 0.95);
}

/// Converted by `./build.sh setup`; build.sh points KINDLING_WEIGHTS_DIR at them.
const MOBILENET_V2: &[u8] = include_bytes!(concat!(
    env!("KINDLING_WEIGHTS_DIR"),
    "/mobilenet_v2.safetensors"
));
const COFFEE: &[u8] = include_bytes!("../fixtures/images/coffee.png");
const REFERENCE: &str = include_str!("../fixtures/mobilenet_v2_reference.json");

#[wasm_bindgen_test]
async fn mobilenet_v2_sees_espresso_and_matches_the_reference_on_webgpu() {
    use kindling::backbone::imagenet_top_k;
    use kindling::data::image::Rgba;
    let gpu = acquire(DevicePreference::Webgpu, None).await.unwrap();
    let spec = BackboneSpec::MobilenetV2;
    let net = Backbone::load(&spec, MOBILENET_V2, &gpu.device).unwrap();

    let png = image::load_from_memory(COFFEE).unwrap().to_rgba8();
    let (w, h) = png.dimensions();
    let img = Rgba::new(w as usize, h as usize, png.into_raw()).unwrap();
    let top = imagenet_top_k(&spec, &net, &img, 5, &gpu.device)
        .await
        .unwrap();
    assert_eq!(top[0].0, 967, "coffee is an espresso on WebGPU: {top:?}");

    let n = 3 * 224 * 224;
    let input: Vec<f32> = (0..n)
        .map(|i| (1.5 * (0.01 * i as f64).sin()) as f32)
        .collect();
    let x = net.input(input, 1, &gpu.device);
    let features = net
        .forward_blocks(x, 0..net.num_blocks(), false)
        .into_features();
    let logits = net
        .imagenet_logits(features)
        .unwrap()
        .into_data_async()
        .await
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();
    let reference: serde_json::Value = serde_json::from_str(REFERENCE).unwrap();
    let expected: Vec<f64> = reference["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = logits
        .iter()
        .zip(&expected)
        .map(|(a, b)| (*a as f64 - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst / scale < 1e-3,
        "WebGPU logits off the reference by {worst} (scale {scale})"
    );
}

const MINILM: &[u8] = include_bytes!(concat!(
    env!("KINDLING_WEIGHTS_DIR"),
    "/minilm/model.safetensors"
));
const VOCAB: &str = include_str!(concat!(env!("KINDLING_WEIGHTS_DIR"), "/minilm/vocab.txt"));
const MINILM_REFERENCE: &str = include_str!("../fixtures/minilm_reference.json");

#[wasm_bindgen_test]
async fn minilm_embeddings_match_the_reference_on_webgpu() {
    let gpu = acquire(DevicePreference::Webgpu, None).await.unwrap();
    let spec = BackboneSpec::Bert {
        heads: 12,
        max_len: 128,
        normalize: true,
    };
    let net = Backbone::load(&spec, MINILM, &gpu.device).unwrap();
    assert_minilm_matches_reference(&net, &gpu.device, "WebGPU").await;
    // Every layer pooled (text_features): 7 unit slices, the last the same sentence embedding.
    let every = net.with_every_layer(true);
    assert_eq!(every.feature_dim(), 7 * 384);
    assert_minilm_matches_reference(&every, &gpu.device, "WebGPU, every layer").await;
}

/// MiniLM's embeddings of the reference sentences on `device` against the independent reference
/// (cosine ≥ 0.9999 each): the features' last 384 values, every 384 of them of unit length (one
/// slice, or one per layer when the encoder pools every layer).
async fn assert_minilm_matches_reference(
    net: &Backbone,
    device: &burn::tensor::Device,
    name: &str,
) {
    let tokenizer = kindling::data::Tokenizer::from_vocab(VOCAB).unwrap();
    let cases: serde_json::Value = serde_json::from_str(MINILM_REFERENCE).unwrap();
    let cases = cases.as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let rows = kindling::data::encoder_rows(&tokenizer, &texts, 128);
    let x = net.input(rows, texts.len(), device);
    let features = net
        .forward_blocks(x, 0..net.num_blocks(), false)
        .into_features();
    let flat = features
        .into_data_async()
        .await
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();
    let width = net.feature_dim();
    assert_eq!(flat.len(), texts.len() * width, "{name}");
    for (case, all) in cases.iter().zip(flat.chunks(width)) {
        for slice in all.chunks(384) {
            let length = slice.iter().map(|a| a * a).sum::<f32>().sqrt();
            assert!(
                (length - 1.0).abs() < 1e-3,
                "{name}: a slice of length {length}"
            );
        }
        let e = &all[width - 384..];
        let r: Vec<f64> = case["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let dot: f64 = e.iter().zip(&r).map(|(a, b)| *a as f64 * b).sum();
        let norm = e.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt()
            * r.iter().map(|b| b * b).sum::<f64>().sqrt();
        assert!(
            dot / norm >= 0.9999,
            "{:?}: cosine {} on {name}",
            case["text"],
            dot / norm
        );
    }
}

/// The wasm API as JS uses it: a text project from a CSV with bad rows, errors as JS errors.
#[wasm_bindgen_test]
async fn the_wasm_api_trains_a_text_classifier_from_a_csv_and_reports_errors() {
    use kindling::web::Project as Api;
    use wasm_bindgen::JsValue;
    let js = |v: serde_json::Value| {
        v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap()
    };
    let message = |e: wasm_bindgen::JsError| {
        let v: JsValue = e.into();
        js_sys::Error::from(v).message().as_string().unwrap()
    };
    use serde::Serialize;

    // Bad config: the field is named in the message.
    let bad = js(
        serde_json::json!({"backbone": {"kind": "features", "dim": 4}, "device": "cpu", "config": {"learning_rate": -1}}),
    );
    let err = Api::create(bad, None).await.err().unwrap();
    assert!(message(err).contains("learning_rate"));
    // Wrong weights for the architecture.
    let wrong = js(serde_json::json!({"backbone": {"kind": "mobilenet_v2"}, "device": "cpu"}));
    let err = Api::create(wrong, Some(MINILM.to_vec()))
        .await
        .err()
        .unwrap();
    assert!(message(err).contains("not MobileNetV2"));

    let options = js(serde_json::json!({
        "backbone": {"kind": "bert", "max_len": 32},
        "device": "cpu",
        "vocab": VOCAB,
        "config": {"epochs": 6, "learning_rate": 0.03, "early_stopping": null, "validation_fraction": 0.3},
    }));
    // A vocabulary larger than the weights' embedding would index past it: refused.
    let big_vocab = format!(
        "{VOCAB}{}",
        (0..10).map(|i| format!("extra{i}\n")).collect::<String>()
    );
    let too_big =
        js(serde_json::json!({"backbone": {"kind": "bert"}, "device": "cpu", "vocab": big_vocab}));
    let err = Api::create(too_big, Some(MINILM.to_vec()))
        .await
        .err()
        .unwrap();
    assert!(message(err).contains("vocab.txt has"));
    let t = Api::create(options, Some(MINILM.to_vec())).await.unwrap();
    let err = t.predict_text("hello".into(), 2).await.err().unwrap();
    assert!(message(err).contains("no model yet"));
    let mut csv = String::from("text,label\n");
    for i in 0..12 {
        csv.push_str(&format!(
            "I love this wonderful day number {i},happy\nThis is awful and I hate it {i},sad\n"
        ));
    }
    csv.push_str("only-one-field\n\"unclosed,happy\n");
    let report = t
        .add_text_file(csv, js(serde_json::json!({"format": "csv"})))
        .unwrap();
    let report: serde_json::Value = serde_wasm_bindgen::from_value(report).unwrap();
    assert_eq!(report["added"], 24);
    let lines: Vec<u64> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![26, 27]);
    // The drill-downs show the texts themselves, by example index (the skipped rows hold none).
    assert_eq!(
        t.example_texts(vec![23, 0]).unwrap(),
        vec![
            "This is awful and I hate it 11".to_string(),
            "I love this wonderful day number 0".to_string()
        ]
    );
    assert!(message(t.example_texts(vec![24]).err().unwrap()).contains("no example 24"));
    t.start().unwrap();
    while !t.finished().unwrap() {
        t.train_epoch().await.unwrap();
    }
    let p: serde_json::Value = serde_wasm_bindgen::from_value(
        t.predict_text("what a wonderful, lovely day".into(), 2)
            .await
            .unwrap(),
    )
    .unwrap();
    let classes = t.classes().unwrap();
    assert_eq!(classes[p["classes"][0].as_u64().unwrap() as usize], "happy");
    let batch: serde_json::Value = serde_wasm_bindgen::from_value(
        t.predict_texts(
            vec![
                "what a wonderful, lovely day".into(),
                "awful, I hate it".into(),
            ],
            1,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let (one, in_batch) = (
        p["probabilities"][0].as_f64().unwrap(),
        batch[0]["probabilities"][0].as_f64().unwrap(),
    );
    assert!(
        (one - in_batch).abs() < 1e-5,
        "alone {one}, in a batch {in_batch}"
    );
    assert_eq!(
        classes[batch[1]["classes"][0].as_u64().unwrap() as usize],
        "sad"
    );
    let model = t.export_model(JsValue::UNDEFINED).await.unwrap();
    // Import into a fresh trainer: same prediction.
    let options = js(
        serde_json::json!({"backbone": {"kind": "bert", "max_len": 32}, "device": "cpu", "vocab": VOCAB}),
    );
    let fresh = Api::create(options, Some(MINILM.to_vec())).await.unwrap();
    fresh.import_model(&model).unwrap();
    let q: serde_json::Value = serde_wasm_bindgen::from_value(
        fresh
            .predict_text("what a wonderful, lovely day".into(), 2)
            .await
            .unwrap(),
    )
    .unwrap();
    let (a, b) = (
        p["probabilities"][0].as_f64().unwrap(),
        q["probabilities"][0].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    assert!(fresh.import_model(b"junk").is_err());
}

/// The image half of the wasm API as JS uses it: addImage / classCounts / setConfig / trainEpoch /
/// history / checkpoint / resume / predictImage, and importing a model of another backbone.
#[wasm_bindgen_test]
async fn the_wasm_api_trains_images_checkpoints_resumes_and_refuses_foreign_models() {
    use kindling::web::Project as Api;
    use serde::Serialize;
    use wasm_bindgen::JsValue;
    let js = |v: serde_json::Value| {
        v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap()
    };
    let from = |v: JsValue| -> serde_json::Value { serde_wasm_bindgen::from_value(v).unwrap() };
    let message = |e: wasm_bindgen::JsError| {
        let v: JsValue = e.into();
        js_sys::Error::from(v).message().as_string().unwrap()
    };
    let fashion = |name: &str| -> (Vec<u8>, usize, usize) {
        let bytes = match name {
            "bag-0" => &include_bytes!("../fixtures/fashion/bag-0.png")[..],
            "bag-1" => include_bytes!("../fixtures/fashion/bag-1.png"),
            "bag-2" => include_bytes!("../fixtures/fashion/bag-2.png"),
            "bag-3" => include_bytes!("../fixtures/fashion/bag-3.png"),
            "bag-4" => include_bytes!("../fixtures/fashion/bag-4.png"),
            "trouser-0" => include_bytes!("../fixtures/fashion/trouser-0.png"),
            "trouser-1" => include_bytes!("../fixtures/fashion/trouser-1.png"),
            "trouser-2" => include_bytes!("../fixtures/fashion/trouser-2.png"),
            "trouser-3" => include_bytes!("../fixtures/fashion/trouser-3.png"),
            _ => include_bytes!("../fixtures/fashion/trouser-4.png"),
        };
        let img = image::load_from_memory(bytes).unwrap().to_rgba8();
        let (w, h) = img.dimensions();
        (img.into_raw(), w as usize, h as usize)
    };
    let options = js(serde_json::json!({
        "backbone": {"kind": "mobilenet_v2"},
        "device": "cpu",
        // Epochs of batches (the convex fit could converge before the checkpoint this tests).
        "config": {"epochs": 4, "learning_rate": 0.01, "early_stopping": null, "validation_fraction": 0.25, "batch_size": 4, "head_fit": "epochs"},
    }));
    let t = Api::create(options.clone(), Some(MOBILENET_V2.to_vec()))
        .await
        .unwrap();
    assert_eq!(from(t.device().unwrap())["kind"], "cpu");
    t.add_class("bag".into()).unwrap();
    let counts = from(t.class_counts().unwrap());
    assert_eq!(counts, serde_json::json!([{"name": "bag", "count": 0}]));
    // A wrong pixel count is refused and nothing is added.
    let err = t.add_image(&[0; 10], 2, 2, "bag".into()).err().unwrap();
    assert!(
        message(err).contains("RGBA"),
        "the message names the pixel format"
    );
    let mut images = Vec::new();
    for i in 0..4 {
        for class in ["bag", "trouser"] {
            let (rgba, w, h) = fashion(&format!("{class}-{i}"));
            t.add_image(&rgba, w, h, class.into()).unwrap();
            images.push((rgba, w, h));
        }
    }
    assert_eq!(
        from(t.class_counts().unwrap()),
        serde_json::json!([{"name": "bag", "count": 4}, {"name": "trouser", "count": 4}])
    );
    let err = t
        .set_config(js(serde_json::json!({"batch_size": 0})))
        .err()
        .unwrap();
    assert!(message(err).contains("batch_size"));
    let err = t.checkpoint().await.err().unwrap();
    assert!(message(err).contains("no training run"));

    t.start().unwrap();
    // The pixels were not kept: the run asks for them, and a step without them is refused.
    let err = message(t.train_epoch().await.err().unwrap());
    assert!(err.contains("supply them first"), "{err}");
    let err = message(
        t.supply_images(&[0, 1], &[0; 8], &[1, 1], &[1, 1])
            .err()
            .unwrap(),
    );
    assert!(err.contains("asked for"), "{err}");
    image_epoch(&t, &images).await;
    assert!(t.can_continue().unwrap() && !t.finished().unwrap());
    assert_eq!(from(t.history().unwrap()).as_array().unwrap().len(), 1);
    let checkpoint = t.checkpoint().await.unwrap();
    while !t.finished().unwrap() {
        image_epoch(&t, &images).await;
    }
    assert!(!t.can_continue().unwrap());
    let (rgba, w, h) = fashion("bag-4");
    let straight = from(t.predict_image(&rgba, w, h, 2).await.unwrap());
    assert_eq!(
        t.classes().unwrap()[straight["classes"][0].as_u64().unwrap() as usize],
        "bag"
    );

    // A second trainer with the same examples resumes the checkpoint and ends where the first did.
    let resumed = Api::create(options.clone(), Some(MOBILENET_V2.to_vec()))
        .await
        .unwrap();
    add_fashion_images(&resumed, &images);
    resumed.restore_checkpoint(&checkpoint).unwrap();
    assert!(resumed.can_continue().unwrap());
    // The first project's feature cache spares the restored run every image.
    let cache = t.export_cache().await.unwrap().unwrap();
    assert!(!from(resumed.input_request().unwrap()).is_null());
    resumed.import_cache(&cache).unwrap();
    assert!(from(resumed.input_request().unwrap()).is_null());
    while !resumed.finished().unwrap() {
        image_epoch(&resumed, &images).await;
    }
    assert_eq!(
        from(resumed.history().unwrap()).as_array().unwrap().len(),
        4
    );
    let again = from(resumed.predict_image(&rgba, w, h, 2).await.unwrap());
    let (a, b) = (
        straight["probabilities"][0].as_f64().unwrap(),
        again["probabilities"][0].as_f64().unwrap(),
    );
    assert!(
        (a - b).abs() < 1e-5,
        "resumed run ends at {b}, straight run at {a}"
    );
    // A finished run restored without a cache is evaluated as the worker does it: the images
    // its cache asks for, a chunk at a time (`cacheNextChunk`), then `evaluate()`.
    let finished = resumed.checkpoint().await.unwrap();
    let kept = from(resumed.evaluate().await.unwrap());
    let restored = Api::create(options, Some(MOBILENET_V2.to_vec()))
        .await
        .unwrap();
    add_fashion_images(&restored, &images);
    restored.restore_checkpoint(&finished).unwrap();
    assert!(restored.finished().unwrap());
    let err = message(restored.evaluate().await.err().unwrap());
    assert!(err.contains("ask input_request() and supply them"), "{err}");
    let mut chunks = 0;
    loop {
        supply_requested(&restored, &images);
        if !restored.cache_next_chunk().unwrap() {
            break;
        }
        chunks += 1;
    }
    assert_eq!(chunks, 1, "8 images are one chunk of the cache");
    let again = from(restored.evaluate().await.unwrap());
    assert_eq!(again["report"]["accuracy"], kept["report"]["accuracy"]);
    assert_eq!(again["epoch"], kept["epoch"]);

    let err = resumed.restore_checkpoint(b"junk").err().unwrap();
    assert!(message(err).contains("checkpoint"));

    // A model trained on feature vectors is refused by the MobileNetV2 trainer, with the reason.
    let features = js(serde_json::json!({
        "backbone": {"kind": "features", "dim": DIM},
        "device": "cpu",
        "config": {"epochs": 1, "early_stopping": null},
    }));
    let other = Api::create(features, None).await.unwrap();
    let data = separable(6);
    let values: Vec<f32> = (0..data.len()).flat_map(|i| data.row(i).to_vec()).collect();
    let labels: Vec<u32> = data.labels().iter().map(|&l| l as u32).collect();
    other
        .add_examples(&values, &labels, data.classes().to_vec())
        .unwrap();
    other.start().unwrap();
    other.train_epoch().await.unwrap();
    let p = from(other.predict(&values[..DIM], 1).await.unwrap());
    assert_eq!(p.as_array().unwrap().len(), 1);
    let err = message(other.import_cache(&cache).err().unwrap());
    assert!(err.contains("other pretrained weights"), "{err}");
    let foreign = other.export_model(JsValue::UNDEFINED).await.unwrap();
    let err = t.import_model(&foreign).err().unwrap();
    assert!(
        message(err).contains("backbone"),
        "{}",
        "the message names the backbone"
    );
}
