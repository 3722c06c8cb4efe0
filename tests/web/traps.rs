//! Hostile and unusual input through the wasm API, as JS would send it: each case that used to
//! trap the wasm (and poison the object) or hang is now an `Error` naming what is wrong, and the
//! same project then still trains and predicts. Also the calls the other tests do not make
//! (`step`, `evaluate`, `addTexts`, `textColumns`, `benchmark`) and the "busy" guard.

use std::collections::HashMap;

use kindling::web::{Project, benchmark, text_columns};
use serde::Serialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use crate::{DIM, MINILM, MOBILENET_V2, VOCAB, separable};

fn js(v: serde_json::Value) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

fn from(v: JsValue) -> serde_json::Value {
    serde_wasm_bindgen::from_value(v).unwrap()
}

fn message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    js_sys::Error::from(v).message().as_string().unwrap()
}

fn features_options(config: serde_json::Value) -> JsValue {
    js(serde_json::json!({
        "backbone": {"kind": "features", "dim": DIM},
        "device": "cpu",
        "config": config,
    }))
}

/// A features project holding the separable test set.
async fn features_project(config: serde_json::Value) -> (Project, Vec<f32>) {
    let t = Project::create(features_options(config), None)
        .await
        .unwrap();
    let data = separable(8);
    let values: Vec<f32> = (0..data.len()).flat_map(|i| data.row(i).to_vec()).collect();
    let labels: Vec<u32> = data.labels().iter().map(|&l| l as u32).collect();
    t.add_examples(&values, &labels, data.classes().to_vec())
        .unwrap();
    (t, values)
}

/// Rewrites a kindling safetensors file (model or checkpoint): `edit` changes its description
/// (the JSON under `key`) and its tensors.
fn rewrite(
    bytes: &[u8],
    key: &str,
    edit: impl FnOnce(&mut serde_json::Value, &mut HashMap<String, Vec<f32>>),
) -> Vec<u8> {
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
    let mut meta: serde_json::Value =
        serde_json::from_str(&header.metadata().as_ref().unwrap()[key]).unwrap();
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let mut tensors: HashMap<String, Vec<f32>> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, values)
        })
        .collect();
    edit(&mut meta, &mut tensors);
    let raw: Vec<(String, Vec<u8>, usize)> = tensors
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                v.len(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = raw
        .iter()
        .map(|(name, data, n)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![*n], data)
                    .unwrap();
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(
        views,
        Some(HashMap::from([(key.to_string(), meta.to_string())])),
    )
    .unwrap()
}

/// Trains the project to its end and checks it predicts its first example's class.
async fn still_trains_and_predicts(t: &Project, values: &[f32]) {
    t.start().unwrap();
    while !t.finished().unwrap() {
        t.train_epoch().await.unwrap();
    }
    let p = from(t.predict(&values[..DIM], 1).await.unwrap());
    assert_eq!(p[0]["classes"][0], 0, "{p}");
}

#[wasm_bindgen_test]
async fn sizes_beyond_memory_are_refused_with_the_field_named() {
    for (backbone, field) in [
        (
            serde_json::json!({"kind": "toy_mlp", "widths": [100000, 100000]}),
            "backbone.widths",
        ),
        (
            serde_json::json!({"kind": "features", "dim": 1_000_000_000u64}),
            "backbone.dim",
        ),
    ] {
        let options = js(serde_json::json!({"backbone": backbone, "device": "cpu"}));
        let err = message(Project::create(options, None).await.err().unwrap());
        assert!(err.contains(field), "{err}");
    }
    for (config, field) in [
        (
            serde_json::json!({"head": {"hidden": [1_000_000_000u64]}}),
            "head.hidden",
        ),
        (
            serde_json::json!({"validation_fraction": 0.999}),
            "validation_fraction",
        ),
        (
            serde_json::json!({"accumulation_steps": 1_000_000_000u64}),
            "accumulation_steps",
        ),
        (serde_json::json!({"epochs": 1_000_000}), "epochs"),
        (serde_json::json!({"learning_rat": 0.1}), "learning_rate"),
    ] {
        let err = message(
            Project::create(features_options(config.clone()), None)
                .await
                .err()
                .unwrap(),
        );
        assert!(err.contains(field), "{config}: {err}");
    }
    // `Infinity` cannot be written in JSON but can be sent from JS.
    let config = js_sys::Object::new();
    let optimizer = js_sys::Object::new();
    js_sys::Reflect::set(&optimizer, &"kind".into(), &"adamw".into()).unwrap();
    js_sys::Reflect::set(&optimizer, &"epsilon".into(), &f64::INFINITY.into()).unwrap();
    js_sys::Reflect::set(&config, &"optimizer".into(), &optimizer).unwrap();
    let (t, values) = features_project(serde_json::json!({"epochs": 10, "learning_rate": 0.05, "batch_size": 4, "early_stopping": null})).await;
    let err = message(t.set_config(config.into()).err().unwrap());
    assert!(err.contains("optimizer.epsilon"), "{err}");
    // Unknown names are refused with the accepted ones listed.
    let err = message(
        t.set_config(js(serde_json::json!({"epoch": 3})))
            .err()
            .unwrap(),
    );
    assert!(err.contains("epoch") && err.contains("epochs"), "{err}");
    let err = message(
        Project::create(
            js(serde_json::json!({"backbone": {"kind": "features", "dim": 4}, "devise": "cpu"})),
            None,
        )
        .await
        .err()
        .unwrap(),
    );
    assert!(err.contains("devise") && err.contains("device"), "{err}");
    // Predictions need 1 ≤ topK.
    for k in [0, -1] {
        let err = message(t.predict(&values[..DIM], k).await.err().unwrap());
        assert!(err.contains("topK"), "{err}");
    }
    still_trains_and_predicts(&t, &values).await;
}

/// Before 0.2 the 2,049th image trapped: the rows outgrew what one wasm32 `Vec` may hold. Now a
/// project past its 1 GiB of rows refuses more before allocating, keeps what it has, and trains.
#[wasm_bindgen_test]
async fn a_project_past_its_memory_refuses_more_examples_and_still_trains() {
    let options = js(serde_json::json!({
        "backbone": {"kind": "toy_mlp", "widths": [65536, 2]},
        "device": "cpu",
        "config": {"epochs": 1, "early_stopping": null, "batch_size": 256},
    }));
    let t = Project::create(options, None).await.unwrap();
    // 512 rows of 65,536 values = 128 MiB a batch: the 9th batch would pass 1 GiB.
    let rows = 512;
    let classes = vec!["low".to_string(), "high".to_string()];
    let labels: Vec<u32> = (0..rows as u32).map(|i| i % 2).collect();
    let mut values = vec![0.0f32; rows * 65536];
    for (r, row) in values.chunks_mut(65536).enumerate() {
        row[0] = labels[r] as f32;
    }
    for batch in 0..8 {
        let held = t.add_examples(&values, &labels, classes.clone());
        assert_eq!(held.ok(), Some((batch + 1) * rows), "batch {batch}");
    }
    let err = message(
        t.add_examples(&values, &labels, classes.clone())
            .err()
            .unwrap(),
    );
    assert!(err.contains("memory is full: the 4096 examples"), "{err}");
    let counts = from(t.class_counts().unwrap());
    assert_eq!(counts[0]["count"], 2048, "{counts}");
    t.start().unwrap();
    t.train_epoch().await.unwrap();
    assert!(t.finished().unwrap());
}

#[wasm_bindgen_test]
async fn images_whose_size_overflows_or_bombs_are_refused() {
    let options = js(serde_json::json!({
        "backbone": {"kind": "mobilenet_v2"},
        "device": "cpu",
        "config": {"epochs": 1, "early_stopping": null, "validation_fraction": 0.5},
    }));
    let t = Project::create(options, Some(MOBILENET_V2.to_vec()))
        .await
        .unwrap();
    // width × height × 4 overflows 32 bits; or the declared size is beyond the cap.
    for (w, h, bytes) in [
        (65536, 16384, 0),
        (1_073_741_825, 1, 4),
        (20_000, 20_000, 16),
    ] {
        let err = message(
            t.add_image(&vec![0; bytes], w, h, "a".into())
                .err()
                .unwrap(),
        );
        assert!(err.contains("pixels"), "{w}×{h}: {err}");
    }
    let err = message(
        t.predict_image(&[0; 4], 65536, 65536, 1)
            .await
            .err()
            .unwrap(),
    );
    assert!(err.contains("pixels"), "{err}");
    let err = message(t.add_class("   ".into()).err().unwrap());
    assert!(err.contains("empty"), "{err}");
    // The project still takes images and trains.
    let mut images = Vec::new();
    for i in 0..4u8 {
        for (class, shade) in [("dark", 10u8), ("light", 240)] {
            let rgba: Vec<u8> = (0..16 * 16)
                .flat_map(|p| [shade.wrapping_add(i), shade, (p % 7) as u8, 255])
                .collect();
            t.add_image(&rgba, 16, 16, class.into()).unwrap();
            images.push((rgba, 16, 16));
        }
    }
    // A run a tab cannot hold (every block fine-tuned, batches of 4096) is refused up front,
    // naming what to change; the examples stay, and a smaller run trains.
    t.set_config(js(
        serde_json::json!({"strategy": {"kind": "full"}, "batch_size": 4096}),
    ))
    .unwrap();
    let err = message(t.start().err().unwrap());
    assert!(
        err.contains("browser tab") && err.contains("batch_size"),
        "{err}"
    );
    assert_eq!(from(t.class_counts().unwrap())[0]["count"], 4);
    assert!(from(t.memory_estimate().unwrap()).is_null());
    t.set_config(js(
        serde_json::json!({"epochs": 1, "early_stopping": null, "validation_fraction": 0.5}),
    ))
    .unwrap();
    t.start().unwrap();
    let estimate = from(t.memory_estimate().unwrap());
    assert!(estimate["total_bytes"].as_u64().unwrap() > 0, "{estimate}");
    // Supplied images whose sizes do not add up are refused, and the run still asks for them.
    let request = from(t.input_request().unwrap());
    let indices: Vec<u32> = serde_json::from_value(request["indices"].clone()).unwrap();
    let n = indices.len();
    for (bytes, w, h) in [
        (n * 1024 - 4, 16u32, 16u32),
        (n * 1024, 16, 17),
        (4, 65536, 65536),
    ] {
        let err = message(
            t.supply_images(&indices, &vec![0; bytes], &vec![w; n], &vec![h; n])
                .err()
                .unwrap(),
        );
        assert!(
            err.contains("bytes") || err.contains("pixels"),
            "{w}×{h}: {err}"
        );
    }
    assert_eq!(from(t.input_request().unwrap()), request);
    crate::image_epoch(&t, &images).await;
    assert!(t.finished().unwrap());
    let p = from(t.predict_image(&[240; 64], 4, 4, 2).await.unwrap());
    assert_eq!(p["classes"].as_array().unwrap().len(), 2);
}

#[wasm_bindgen_test]
async fn damaged_model_files_and_checkpoints_are_refused() {
    // Epochs of batches: their checkpoints carry optimiser state, which a damaged file must not
    // slip past (the convex fit keeps none).
    let config = serde_json::json!({"epochs": 10, "learning_rate": 0.05, "batch_size": 4, "early_stopping": null, "head_fit": "epochs"});
    let (t, values) = features_project(config.clone()).await;
    t.start().unwrap();
    // Before the first epoch the examples' activations are cached a chunk per step.
    assert_eq!(
        from(t.caching().unwrap()),
        serde_json::json!({"done": 0, "total": 24})
    );
    // step() one batch at a time until the first epoch ends.
    while t.step().await.unwrap().is_null() {}
    let checkpoint = t.checkpoint().await.unwrap();
    while !t.finished().unwrap() {
        t.train_epoch().await.unwrap();
    }
    let model = t.export_model(JsValue::UNDEFINED).await.unwrap();
    let evaluation = from(t.evaluate().await.unwrap());
    assert!(
        evaluation["report"]["accuracy"].as_f64().unwrap() > 0.9,
        "{evaluation}"
    );

    let (other, _) = features_project(config).await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            rewrite(&model, "kindling.model", |m, _| {
                m["classes"] = (0..1_000_000).map(|i| format!("c{i}")).collect();
            }),
            "1000000 classes",
        ),
        (
            rewrite(&model, "kindling.model", |m, _| {
                m["classes"] = serde_json::json!(["class0", "class0", "class2"]);
            }),
            "twice",
        ),
        (
            rewrite(&model, "kindling.model", |m, _| {
                m["config"]["head"]["hidden"] = serde_json::json!([1_000_000_000u64]);
            }),
            "head.hidden",
        ),
        (
            rewrite(&model, "kindling.model", |_, tensors| {
                for v in tensors.values_mut() {
                    v[0] = f32::NAN;
                }
            }),
            "NaN",
        ),
        // A temperature no calibration gives (it would turn every prediction to one class or
        // to chance): refused, as a damaged file.
        (
            rewrite(&model, "kindling.model", |m, _| {
                m["temperature"] = serde_json::json!(1e9);
            }),
            "temperature is 1000000000",
        ),
        (
            rewrite(&model, "kindling.model", |m, _| {
                m["temperature"] = serde_json::json!(-1.0);
            }),
            "temperature is -1",
        ),
    ];
    for (file, expected) in cases {
        let err = message(other.import_model(&file).err().unwrap());
        assert!(err.contains(expected), "{expected}: {err}");
    }
    // Export options: an unknown precision is refused; an f16 file is smaller and imports.
    let err = message(
        t.export_model(js(serde_json::json!({"precision": "f8"})))
            .await
            .err()
            .unwrap(),
    );
    assert!(err.contains("precision"), "{err}");
    let half = t
        .export_model(js(serde_json::json!({"precision": "f16"})))
        .await
        .unwrap();
    // A head of a few weights: the header dominates (the half size is tested on MobileNetV2 in
    // tests/lighter_models.rs).
    assert!(
        half.len() < model.len(),
        "{} vs {}",
        half.len(),
        model.len()
    );
    other.import_model(&half).unwrap();
    // Sweeps out of order, or of unknown settings, are refused with what to do.
    assert!(message(other.sweep_next().err().unwrap()).contains("startSweep"));
    assert!(message(other.sweep_finish().await.err().unwrap()).contains("startSweep"));
    let err = message(
        other
            .start_sweep(
                js(serde_json::json!({"grid": {"epochs": [0]}})),
                JsValue::UNDEFINED,
            )
            .err()
            .unwrap(),
    );
    assert!(err.contains("epochs"), "{err}");
    let err = message(
        other
            .start_sweep(
                js(serde_json::json!({"recipes": ["thorough"]})),
                js(serde_json::json!({"smallest_class": "many", "images": true})),
            )
            .err()
            .unwrap(),
    );
    assert!(err.contains("profile"), "{err}");
    other
        .start_sweep(
            js(serde_json::json!({"recipes": ["quick"]})),
            JsValue::UNDEFINED,
        )
        .unwrap();
    assert!(message(other.sweep_finish().await.err().unwrap()).contains("sweepNext"));
    // One value short (whichever moment: a bias may hold only 3, so "keep 3" could change nothing).
    let truncated = rewrite(&checkpoint, "kindling.checkpoint", |_, tensors| {
        let mut names: Vec<&String> = tensors.keys().filter(|k| k.starts_with("optim/")).collect();
        names.sort();
        let name = names[0].clone();
        let moment = tensors.get_mut(&name).unwrap();
        moment.truncate(moment.len() - 1);
    });
    let err = message(other.restore_checkpoint(&truncated).err().unwrap());
    assert!(err.contains("optimiser state"), "{err}");
    // Same classes and count, other examples: said so.
    let (shuffled, _) = {
        let t = Project::create(features_options(serde_json::json!({"epochs": 3})), None)
            .await
            .unwrap();
        let data = separable(8);
        let mut values: Vec<f32> = (0..data.len()).flat_map(|i| data.row(i).to_vec()).collect();
        values[0] += 1.0;
        let labels: Vec<u32> = data.labels().iter().map(|&l| l as u32).collect();
        t.add_examples(&values, &labels, data.classes().to_vec())
            .unwrap();
        (t, ())
    };
    let err = message(shuffled.restore_checkpoint(&checkpoint).err().unwrap());
    assert!(err.contains("other examples"), "{err}");
    // The good files still load, and the refused ones left the project usable.
    other.import_model(&model).unwrap();
    other.restore_checkpoint(&checkpoint).unwrap();
    assert!(other.can_continue().unwrap());
    still_trains_and_predicts(&other, &values).await;
}

#[wasm_bindgen_test]
async fn text_input_is_checked_and_text_columns_are_read() {
    let options = js(serde_json::json!({
        "backbone": {"kind": "bert", "max_len": 16},
        "device": "cpu",
        "vocab": VOCAB,
        "config": {"epochs": 4, "learning_rate": 0.03, "early_stopping": null, "validation_fraction": 0.3},
    }));
    let t = Project::create(options, Some(MINILM.to_vec()))
        .await
        .unwrap();
    let err = message(
        t.add_texts(vec!["hello".into()], "  ".into())
            .err()
            .unwrap(),
    );
    assert!(err.contains("empty"), "{err}");
    // Token ids past the vocabulary would index past the embedding table.
    let mut row = vec![0.0f32; 32];
    row[0] = 1e9;
    row[16] = 1.0;
    let err = message(t.add_examples(&row, &[0], vec!["a".into()]).err().unwrap());
    assert!(err.contains("token id"), "{err}");
    for i in 0..8 {
        t.add_texts(vec![format!("a lovely happy day {i}")], "happy".into())
            .unwrap();
        t.add_texts(vec![format!("an awful sad night {i}")], "sad".into())
            .unwrap();
    }
    // A BOM, CR-only line ends and a JSONL file's chosen fields.
    let report = from(
        t.add_text_file(
            "\u{feff}body,y\rwhat a happy lovely day,happy\rsuch a sad awful night,sad\r".into(),
            js(serde_json::json!({"format": "csv", "text_column": "body", "label_column": "y"})),
        )
        .unwrap(),
    );
    assert_eq!(report["added"], 2, "{report}");
    let report = from(
        t.add_text_file(
            "{\"body\": \"happy happy day\", \"y\": \"happy\"}\n".into(),
            js(serde_json::json!({"format": "jsonl", "text_column": "body", "label_column": "y"})),
        )
        .unwrap(),
    );
    assert_eq!(report["added"], 1, "{report}");
    let err = message(
        t.add_text_file(
            "text,label\na,b\n".into(),
            js(serde_json::json!({"format": "csv", "delimiter": ";"})),
        )
        .err()
        .unwrap(),
    );
    assert!(
        err.contains("delimiter") && err.contains("text_column"),
        "{err}"
    );
    let err = message(
        t.add_text_file(
            "text,kind\na,b\n".into(),
            js(serde_json::json!({"format": "csv"})),
        )
        .err()
        .unwrap(),
    );
    assert!(err.contains("no label column named 'label'"), "{err}");
    assert_eq!(
        text_columns("\u{feff}\"a b\",c\r1,2\r", js(serde_json::json!("csv"))).unwrap(),
        vec!["a b", "c"]
    );
    assert!(text_columns("x\n", js(serde_json::json!("xml"))).is_err());
    t.start().unwrap();
    while !t.finished().unwrap() {
        t.train_epoch().await.unwrap();
    }
    let p = from(
        t.predict_text("a happy lovely day".into(), 1)
            .await
            .unwrap(),
    );
    assert_eq!(
        t.classes().unwrap()[p["classes"][0].as_u64().unwrap() as usize],
        "happy"
    );
}

/// A call made while another is awaiting the device gets "busy", not wasm-bindgen's aliasing
/// error, and the project is fine once the first call ends.
#[wasm_bindgen_test]
async fn a_call_during_an_awaited_epoch_is_refused_as_busy() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let options = js(serde_json::json!({
        "backbone": {"kind": "features", "dim": DIM},
        "device": "webgpu",
        "config": {"epochs": 2, "early_stopping": null},
    }));
    let t = Project::create(options, None).await.unwrap();
    let data = separable(8);
    let values: Vec<f32> = (0..data.len()).flat_map(|i| data.row(i).to_vec()).collect();
    let labels: Vec<u32> = data.labels().iter().map(|&l| l as u32).collect();
    t.add_examples(&values, &labels, data.classes().to_vec())
        .unwrap();
    t.start().unwrap();
    {
        // The epoch's read-back from the GPU cannot be ready at the first poll.
        let mut epoch = std::pin::pin!(t.train_epoch());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(epoch.as_mut().poll(&mut cx), Poll::Pending));
        let err = message(t.classes().err().unwrap());
        assert!(err.contains("busy"), "{err}");
        let err = message(t.add_class("x".into()).err().unwrap());
        assert!(err.contains("busy"), "{err}");
        epoch.await.unwrap();
    }
    assert_eq!(t.classes().unwrap().len(), 3);
    let result = from(
        benchmark(
            "head".into(),
            js(serde_json::json!({"device": "cpu", "runs": 1})),
            None,
        )
        .await
        .unwrap(),
    );
    assert!(result["value"].as_f64().unwrap() > 0.0, "{result}");
}

/// An image augmentation out of range is named when the project is created, not found later as
/// inverted colours: colour jitter must stay within 0–1.
#[wasm_bindgen_test]
async fn colour_jitter_out_of_range_is_refused_at_create() {
    for jitter in [3.0, -0.5] {
        let options = js(serde_json::json!({
            "backbone": {"kind": "features", "dim": DIM},
            "device": "cpu",
            "config": {},
            "augment": {"color_jitter": jitter},
        }));
        let err = Project::create(options, None).await.err().unwrap();
        let text = message(err);
        assert!(text.contains("augment.color_jitter"), "{jitter}: {text}");
        assert!(text.contains("give 0 (off) to 1"), "{jitter}: {text}");
    }
}
