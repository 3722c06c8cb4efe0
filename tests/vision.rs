#![cfg(not(target_arch = "wasm32"))]
//! MobileNetV2 with the real torchvision ImageNet weights (converted by `./build.sh setup`):
//! agreement with the independent numpy reference, ImageNet top-1 on real photos, fine-tuning on
//! real images, and the errors for bad weight files and corrupt images.

mod common;

use common::real::{fashion_mnist, load, mobilenet, weights_path};

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use kindling::backbone::{Activations, Backbone, BackboneSpec, imagenet_top_k};
use kindling::config::Strategy;
use kindling::config::TrainConfig;
use kindling::data::Dataset;
use kindling::data::image::decode_file;
use kindling::train::TrainingRun;

/// The reference's deterministic pattern input.
fn pattern() -> Vec<f32> {
    (0..3 * 224 * 224)
        .map(|i| (1.5 * (0.01 * i as f64).sin()) as f32)
        .collect()
}

/// ImageNet logits of the pattern, through burn's ops.
fn pattern_logits(backbone: &Backbone, device: &Device) -> Vec<f32> {
    let x = backbone.input(pattern(), 1, device);
    let features = backbone
        .forward_blocks(x, 0..backbone.num_blocks(), false)
        .into_features();
    logits_of(backbone, features)
}

/// ImageNet logits of the pattern, through the host-memory CPU plan (`Backbone::infer`).
fn pattern_logits_on_the_cpu_plan(backbone: &Backbone, device: &Device) -> Vec<f32> {
    let features = backbone.infer(pattern(), 1, device).into_features();
    logits_of(backbone, features)
}

fn logits_of(backbone: &Backbone, features: Tensor<2>) -> Vec<f32> {
    backbone
        .imagenet_logits(features)
        .unwrap()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
}

fn assert_close_to_reference(logits: &[f32], reference: &str) {
    let text = std::fs::read_to_string(fixture(reference)).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected: Vec<f64> = reference["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(logits.len(), expected.len());
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = logits
        .iter()
        .zip(&expected)
        .map(|(a, b)| (*a as f64 - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst / scale < 1e-3,
        "max abs error {worst} against logits of magnitude {scale}"
    );
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn logits_match_the_numpy_reference() {
    let device = Device::flex();
    let net = mobilenet(&device);
    let reference = "mobilenet_v2_reference.json";
    assert_close_to_reference(&pattern_logits(&net, &device), reference);
    assert!(net.cpu_plan(net.num_blocks(), &device).is_some());
    assert_close_to_reference(&pattern_logits_on_the_cpu_plan(&net, &device), reference);
}

/// A frozen prefix that ends mid-network (as when the last blocks train) hands on the same
/// activations from the CPU plan as from burn, for a batch (images kept apart); an empty prefix
/// gets no plan.
#[test]
fn cpu_plan_prefix_matches_burn_for_a_batch() {
    let device = Device::flex();
    let net = mobilenet(&device);
    let rows: Vec<f32> = (0..3 * 3 * 224 * 224)
        .map(|i| ((i % 977) as f32 / 977.0 - 0.5) * 4.0)
        .collect();
    for blocks in [1, 4, 15] {
        let plan = net.cpu_plan(blocks, &device).unwrap();
        let ours = plan.forward(&rows, 3, &device);
        let x = net.input(rows.clone(), 3, &device);
        let burn = net.forward_blocks(x, 0..blocks, false);
        let (Activations::Spatial(a), Activations::Spatial(b)) = (ours, burn) else {
            panic!("a prefix should hand on spatial activations");
        };
        assert_eq!(a.dims(), b.dims());
        let a = a.into_data().try_into_vec_as::<f32>().unwrap();
        let b = b.into_data().try_into_vec_as::<f32>().unwrap();
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst / scale < 1e-4, "{blocks} blocks: {worst} of {scale}");
    }
    assert!(net.cpu_plan(0, &device).is_none());
}

#[test]
fn efficientnet_lite0_matches_its_reference_and_sees_espresso() {
    let device = Device::flex();
    let spec = BackboneSpec::EfficientnetLite0;
    let net = load(&spec, "efficientnet_lite0.safetensors", &device);
    assert_eq!(net.num_blocks(), 18);
    let reference = "efficientnet_lite0_reference.json";
    assert_close_to_reference(&pattern_logits(&net, &device), reference);
    assert_close_to_reference(&pattern_logits_on_the_cpu_plan(&net, &device), reference);
    let img = decode_file(&fixture("images/coffee.png")).unwrap();
    let top = pollster::block_on(imagenet_top_k(&spec, &net, &img, 5, &device)).unwrap();
    assert_eq!(top[0].0, 967, "coffee is an espresso: {top:?}");
}

#[test]
fn imagenet_top1_on_real_photos() {
    let device = Device::flex();
    let backbone = mobilenet(&device);
    let top1 = |name: &str| {
        let img = decode_file(&fixture(&format!("images/{name}.png"))).unwrap();
        pollster::block_on(imagenet_top_k(
            &BackboneSpec::MobilenetV2,
            &backbone,
            &img,
            5,
            &device,
        ))
        .unwrap()[0]
            .0
    };
    assert_eq!(top1("coffee"), 967, "coffee is an espresso");
    assert!(
        [281, 282, 285].contains(&top1("chelsea")),
        "chelsea is a cat"
    );
}

#[test]
fn wrong_weight_files_are_explained() {
    let device = Device::flex();
    let load = |bytes: &[u8]| {
        Backbone::load(&BackboneSpec::MobilenetV2, bytes, &device)
            .err()
            .unwrap()
            .to_string()
    };
    assert!(load(b"definitely not weights").contains("not a readable safetensors"));
    let good = std::fs::read(weights_path("mobilenet_v2.safetensors")).unwrap();
    assert!(load(&good[..good.len() / 2]).contains("not a readable safetensors"));
    // Another architecture: EfficientNet-Lite0's file offered as MobileNetV2.
    let other = std::fs::read(weights_path("efficientnet_lite0.safetensors")).unwrap();
    assert!(load(&other).contains("not MobileNetV2"), "{}", load(&other));
    // The right names with the wrong shape or type.
    let wrong_shape = tiny_safetensors("features.18.0.weight", &[4, 4], safetensors::Dtype::F32);
    let msg = load(&wrong_shape);
    assert!(msg.contains("missing"), "{msg}");
    let msg = load(&tiny_safetensors(
        "features.0.0.weight",
        &[4, 4],
        safetensors::Dtype::F32,
    ));
    assert!(msg.contains("not MobileNetV2"), "{msg}");
    // Right name, wrong shape; right shape, wrong type.
    let mut file = kindling::backbone::weights::WeightFile::parse(
        &wrong_shape,
        "MobileNetV2",
        "features.18.0.weight",
    )
    .unwrap();
    let msg = file
        .values("features.18.0.weight", &[1280, 320, 1, 1])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("[4, 4]") && msg.contains("[1280, 320, 1, 1]"),
        "{msg}"
    );
    let ints = tiny_safetensors("features.18.0.weight", &[4, 4], safetensors::Dtype::I64);
    let mut file = kindling::backbone::weights::WeightFile::parse(
        &ints,
        "MobileNetV2",
        "features.18.0.weight",
    )
    .unwrap();
    assert!(
        file.values("features.18.0.weight", &[4, 4])
            .unwrap_err()
            .to_string()
            .contains("I64")
    );
}

fn tiny_safetensors(name: &str, shape: &[usize], dtype: safetensors::Dtype) -> Vec<u8> {
    let n: usize = shape.iter().product();
    let bytes = vec![0u8; n * dtype.bitsize() / 8];
    let view = safetensors::tensor::TensorView::new(dtype, shape.to_vec(), &bytes).unwrap();
    safetensors::serialize([(name, view)], None).unwrap()
}

#[test]
fn corrupt_image_error_names_the_file() {
    let dir = std::env::temp_dir().join("kindling-corrupt-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n garbage").unwrap();
    let err = decode_file(&path).unwrap_err().to_string();
    assert!(err.contains("broken.png"), "{err}");
}

fn fine_tune(strategy: Strategy) -> f64 {
    let device = Device::flex().autodiff();
    let backbone = mobilenet(&device);
    let pre = BackboneSpec::MobilenetV2.preprocess().unwrap();
    let names = ["T-shirt", "Trouser", "Bag"];
    let mut data = Dataset::new(pre.len());
    for (c, img) in fashion_mnist(&[0, 1, 8], 24) {
        let name = names[[0, 1, 8].iter().position(|&x| x == c).unwrap()];
        data.add(&pre.eval(&img), name).unwrap();
    }
    let config = TrainConfig {
        strategy,
        epochs: 4,
        batch_size: 16,
        learning_rate: 1e-3,
        validation_fraction: 0.25,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut t = TrainingRun::new(config, backbone, data, None, &device).unwrap();
    let h = pollster::block_on(t.fit()).unwrap();
    h.last().unwrap().val_accuracy
}

#[test]
fn fine_tunes_on_real_images_frozen_and_with_the_last_two_blocks() {
    let frozen = fine_tune(Strategy::FeatureExtraction);
    assert!(
        frozen >= 0.8,
        "frozen backbone: validation accuracy {frozen} (chance 0.33)"
    );
    let partial = fine_tune(Strategy::Partial {
        trainable_blocks: 2,
    });
    assert!(
        partial >= 0.8,
        "last 2 blocks: validation accuracy {partial} (chance 0.33)"
    );
}

#[test]
fn random_mobilenet_has_the_torchvision_shapes() {
    let device = Device::flex();
    let b = Backbone::build(
        &BackboneSpec::MobilenetV2,
        &mut kindling::rng::Rng::new(1),
        &device,
    )
    .unwrap();
    assert_eq!(b.num_blocks(), 19);
    let x = Tensor::<4>::from_data(
        TensorData::new(vec![0.1f32; 2 * 3 * 224 * 224], [2, 3, 224, 224]),
        &device,
    );
    let f = b
        .forward_blocks(kindling::backbone::Activations::Spatial(x), 0..19, false)
        .into_features();
    assert_eq!(f.dims(), [2, 1280]);
}

/// The memory estimates behind the README's Limits, for MobileNetV2 and image projects whose
/// pixels stay outside (as in a tab): 20,000 images with Quick stay under 1.5 GB, 5,000 with
/// Balanced fit a tab, and 2,000 with every block fine-tuned at batch 16 do not.
#[test]
fn mobilenet_v2_memory_estimates_for_the_recipes() {
    use kindling::config::HeadConfig;
    let device = common::device();
    let examples = |n: usize| {
        let mut d = Dataset::rows_elsewhere(3 * 224 * 224);
        for i in 0..n {
            d.add_elsewhere(&i.to_le_bytes(), &format!("c{}", i % 10))
                .unwrap();
        }
        d
    };
    let estimate = |strategy: Strategy, hidden: Vec<usize>, n: usize| {
        let config = TrainConfig {
            strategy,
            batch_size: 16,
            head: HeadConfig {
                hidden,
                ..HeadConfig::default()
            },
            ..TrainConfig::default()
        };
        let run = TrainingRun::new(config, mobilenet(&device), examples(n), None, &device).unwrap();
        let e = run.memory_estimate();
        println!(
            "{n} images, {} trainable blocks: {} MB (cache {} MB, batch {} MB, weights+optimiser {} MB)",
            e.trainable_blocks,
            e.total_bytes / 1_000_000,
            e.cache_bytes / 1_000_000,
            e.batch_bytes / 1_000_000,
            (e.weights_bytes + e.optimizer_bytes) / 1_000_000
        );
        e
    };
    let tab = 3u64 << 30;
    // The most images that fit the tab, from the estimate's growth per image.
    let ceiling = |strategy: Strategy, hidden: Vec<usize>, batch: usize| {
        let at = |n: usize| {
            let config = TrainConfig {
                strategy: strategy.clone(),
                batch_size: batch,
                head: HeadConfig {
                    hidden: hidden.clone(),
                    ..HeadConfig::default()
                },
                ..TrainConfig::default()
            };
            TrainingRun::new(config, mobilenet(&device), examples(n), None, &device)
                .unwrap()
                .memory_estimate()
                .total_bytes
        };
        let (small, large) = (at(1_000), at(2_000));
        let per_image = (large - small) / 1_000;
        let n = 1_000 + (tab - small) / per_image;
        println!(
            "{strategy:?} at batch {batch}: {per_image} bytes per image, at most {n} images in a tab"
        );
        n
    };
    assert!(ceiling(Strategy::FeatureExtraction, vec![], 16) > 250_000);
    assert!(
        ceiling(
            Strategy::Partial {
                trainable_blocks: 2
            },
            vec![128],
            16
        ) > 40_000
    );
    assert!(ceiling(Strategy::Full, vec![], 4) > 1_000);
    let quick = estimate(Strategy::FeatureExtraction, vec![], 20_000);
    assert!(quick.total_bytes < 1_500_000_000, "{quick:?}");
    assert_eq!(quick.cache_bytes, 4 * 2 * 20_000 * 1280, "pooled features");
    let balanced = estimate(
        Strategy::Partial {
            trainable_blocks: 2,
        },
        vec![128],
        5_000,
    );
    assert!(balanced.check_fits(tab).is_ok(), "{balanced:?}");
    let full = estimate(Strategy::Full, vec![], 2_000);
    let err = full.check_fits(tab).unwrap_err().to_string();
    assert!(err.contains("strategy"), "{err}");
}

/// A MobileNetV2 cache of the last-2-blocks prefix (7×7×160 maps) written to a file and read
/// back by a second run trains the same, to the value.
#[test]
fn a_spatial_cache_file_round_trips() {
    let device = Device::flex().autodiff();
    let pre = BackboneSpec::MobilenetV2.preprocess().unwrap();
    let mut data = Dataset::new(pre.len());
    for (c, img) in fashion_mnist(&[1, 8], 6) {
        data.add(&pre.eval(&img), if c == 1 { "trouser" } else { "bag" })
            .unwrap();
    }
    let config = TrainConfig {
        strategy: Strategy::Partial {
            trainable_blocks: 2,
        },
        epochs: 2,
        batch_size: 4,
        validation_fraction: 0.34,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let run = |cache: Option<&[u8]>| {
        let mut t = TrainingRun::new(
            config.clone(),
            mobilenet(&device),
            data.clone(),
            None,
            &device,
        )
        .unwrap();
        if let Some(file) = cache {
            t.import_cache(file, "mobilenet_v2").unwrap();
            assert_eq!(t.caching_progress(), None);
        }
        let history = pollster::block_on(t.fit()).unwrap();
        let file = pollster::block_on(t.export_cache("mobilenet_v2")).unwrap();
        (history, file)
    };
    let (first, file) = run(None);
    let file = file.unwrap();
    assert!(file.len() > 12 * 7 * 7 * 160 * 4, "{} bytes", file.len());
    let (again, _) = run(Some(&file));
    let losses = |h: &[kindling::train::EpochReport]| {
        h.iter()
            .map(|r| (r.train_loss, r.val_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&again), losses(&first));
}
