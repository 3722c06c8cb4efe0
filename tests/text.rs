#![cfg(not(target_arch = "wasm32"))]
//! all-MiniLM-L6-v2's tokenizer against Hugging Face `tokenizers` (ids made once by
//! tests/reference/minilm_tokenizer_reference.py and committed).

use std::path::PathBuf;

use kindling::data::Tokenizer;

fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("KINDLING_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kindling/weights")
        });
    dir.join("minilm")
}

fn tokenizer() -> Tokenizer {
    let path = minilm_dir().join("vocab.txt");
    let vocab = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run ./build.sh setup", path.display()));
    Tokenizer::from_vocab(&vocab).unwrap()
}

#[test]
fn ids_equal_the_reference_tokenizer_on_the_whole_corpus() {
    let t = tokenizer();
    assert_eq!(t.vocab_size(), 30522);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/minilm_tokenizer_reference.json");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let mut mismatches = Vec::new();
    for case in cases.as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let expected: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let ids = t.encode(text, 128);
        if ids != expected {
            mismatches.push(format!(
                "{text:?}\n  ours:      {ids:?}\n  reference: {expected:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn minilm(device: &burn::tensor::Device) -> kindling::backbone::Backbone {
    let path = minilm_dir().join("model.safetensors");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run ./build.sh setup", path.display()));
    let spec = kindling::backbone::BackboneSpec::Bert {
        heads: 12,
        max_len: 128,
        normalize: true,
    };
    kindling::backbone::Backbone::load(&spec, &bytes, device).unwrap()
}

fn embed(texts: &[&str]) -> Vec<Vec<f32>> {
    let device = burn::tensor::Device::flex();
    let net = minilm(&device);
    assert_eq!((net.num_blocks(), net.feature_dim()), (6, 384));
    let rows = kindling::data::encoder_rows(&tokenizer(), texts, 128);
    let x = net.input(rows, texts.len(), &device);
    let features = net
        .forward_blocks(x, 0..net.num_blocks(), false)
        .into_features();
    let flat = features.into_data().try_into_vec_as::<f32>().unwrap();
    flat.chunks(384).map(<[f32]>::to_vec).collect()
}

/// A short text cut from a cache of the first 3 layers padded to a longer text, trimmed to its
/// own tokens (as training batches are: `Activations::truncated`), gives the features it gives
/// with the padding.
#[test]
fn a_cached_batch_trimmed_to_its_longest_text_gives_the_same_features() {
    use burn::tensor::{Int, Tensor};
    let device = burn::tensor::Device::flex();
    let net = minilm(&device);
    let texts = [
        "a short one",
        "this text is much longer than the other one, with many more words in it than that",
    ];
    let rows = kindling::data::encoder_rows(&tokenizer(), &texts, 128);
    let short_tokens = net.tokens_in(&rows[..256]).unwrap();
    let long_tokens = net.tokens_in(&rows[256..]).unwrap();
    assert!(
        short_tokens < long_tokens,
        "{short_tokens} vs {long_tokens}"
    );
    let cached = net.forward_blocks(net.input(rows, 2, &device), 0..3, false);
    let short = cached.select(Tensor::<1, Int>::from_ints([0], &device));
    assert_eq!(short.example_shape()[0], long_tokens);
    let features = |x| -> Vec<f32> {
        net.forward_blocks(x, 3..6, false)
            .into_features()
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap()
    };
    let padded = features(short.clone());
    let trimmed = features(short.truncated(short_tokens));
    let largest = padded
        .iter()
        .zip(&trimmed)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(largest < 1e-5, "features differ by up to {largest}");
}

fn cos(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y.powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn minilm_embeddings_match_the_numpy_reference() {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm_reference.json");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    // All texts in one batch: padding and masking must not change any embedding.
    let ours = embed(&texts);
    for (case, e) in cases.iter().zip(&ours) {
        let reference: Vec<f64> = case["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let c = cos(e, &reference);
        assert!(c >= 0.9999, "{:?}: cosine {c}", case["text"]);
    }
    let food_bread = cos(
        &ours[0],
        &ours[1].iter().map(|&v| v as f64).collect::<Vec<_>>(),
    );
    assert!(
        (food_bread - 0.755).abs() <= 0.01,
        "cos(food, bread) = {food_bread}"
    );
}

#[test]
fn the_host_memory_encoder_gives_burns_embeddings() {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm_reference.json");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let texts: Vec<&str> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    let device = burn::tensor::Device::flex();
    let net = minilm(&device);
    let plan = net.cpu_plan(net.num_blocks(), &device).unwrap();
    // Only a whole encoder runs on the host: a prefix of layers stays with burn.
    assert!(net.cpu_plan(4, &device).is_none());
    let rows = kindling::data::encoder_rows(&tokenizer(), &texts, 128);
    let (host, shape) = plan.forward_host(&rows, texts.len());
    assert_eq!(shape, vec![384]);
    let burn: Vec<f32> = embed(&texts).concat();
    let worst = host
        .iter()
        .zip(&burn)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 2e-5, "largest difference from burn's path: {worst}");
    // Each text runs over its own tokens: in a batch or alone, the same values.
    let one = kindling::data::encoder_rows(&tokenizer(), &texts[1..2], 128);
    assert_eq!(plan.forward_host(&one, 1).0, host[384..768].to_vec());
}

/// `text_features: every_layer`: the mean token vector after the embeddings and after each of
/// the 6 layers, each of unit length, side by side — the same on the host-memory plan and on
/// burn's path, its last slice the sentence embedding itself.
#[test]
fn every_layer_features_are_seven_unit_means_the_same_on_both_paths() {
    let texts = [
        "Bread and butter for breakfast.",
        "The film drags, but its last act is wonderful",
        "ok",
    ];
    let device = burn::tensor::Device::flex();
    let net = minilm(&device).with_every_layer(true);
    assert_eq!(net.feature_dim(), 7 * 384);
    let rows = kindling::data::encoder_rows(&tokenizer(), &texts, 128);
    let plan = net.cpu_plan(net.num_blocks(), &device).unwrap();
    let (host, shape) = plan.forward_host(&rows, texts.len());
    assert_eq!(shape, vec![7 * 384]);
    let x = net.input(rows, texts.len(), &device);
    let burn = net
        .forward_blocks(x, 0..net.num_blocks(), false)
        .into_features()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    assert_eq!(burn.len(), host.len());
    let worst = host
        .iter()
        .zip(&burn)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 2e-5, "largest difference from burn's path: {worst}");
    let sentence = embed(&texts);
    for (text, features) in host.chunks(7 * 384).enumerate() {
        let slices: Vec<&[f32]> = features.chunks(384).collect();
        for (layer, slice) in slices.iter().enumerate() {
            let norm = slice.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!(
                (norm - 1.0).abs() < 1e-4,
                "text {text}, slice {layer}: norm {norm}"
            );
        }
        let last = slices[6]
            .iter()
            .zip(&sentence[text])
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            last < 2e-5,
            "text {text}: the last slice is not the sentence embedding ({last})"
        );
        // The embeddings' mean is not the last layer's: the slices carry different views.
        let same: f32 = slices[0].iter().zip(slices[6]).map(|(a, b)| a * b).sum();
        assert!(
            same < 0.9,
            "text {text}: cosine of the first and last slices {same}"
        );
    }
}

/// `text_features` in a run: auto pools every layer when the encoder stays frozen and every
/// class has 100 examples, and the last one when layers train or a class has fewer; `every_layer` with trainable layers is refused with its reason; a
/// model file keeps the choice, so the imported model predicts as the trained one.
#[test]
fn a_frozen_encoder_run_pools_every_layer_and_its_model_file_keeps_it() {
    use kindling::config::{Strategy, TextFeatures, TrainConfig};
    let config = TrainConfig {
        validation_fraction: 0.25,
        ..TrainConfig::default()
    };
    let mut t = tweet_run(config.clone(), 100);
    assert_eq!(t.model().backbone.feature_dim(), 7 * 384);
    pollster::block_on(t.fit()).unwrap();
    // Fewer than 100 examples of a class: auto keeps the sentence embedding; asked, every layer.
    let few = tweet_run(config.clone(), 20);
    assert_eq!(few.model().backbone.feature_dim(), 384);
    let asked = TrainConfig {
        text_features: TextFeatures::EveryLayer,
        ..config.clone()
    };
    assert_eq!(tweet_run(asked, 20).model().backbone.feature_dim(), 7 * 384);
    let partial = Strategy::Partial {
        trainable_blocks: 2,
    };
    let tail = tweet_run(
        TrainConfig {
            strategy: partial.clone(),
            ..config.clone()
        },
        5,
    );
    assert_eq!(tail.model().backbone.feature_dim(), 384);
    let last = tweet_run(
        TrainConfig {
            text_features: TextFeatures::LastLayer,
            ..config.clone()
        },
        5,
    );
    assert_eq!(last.model().backbone.feature_dim(), 384);
    let refused = TrainConfig {
        strategy: partial,
        text_features: TextFeatures::EveryLayer,
        ..config.clone()
    }
    .validate(6)
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("text_features") && refused.contains("feature_extraction"),
        "{refused}"
    );

    let spec = kindling::backbone::BackboneSpec::Bert {
        heads: 12,
        max_len: 64,
        normalize: true,
    };
    let weights = std::fs::read(minilm_dir().join("model.safetensors")).unwrap();
    let info = kindling::model::file::ModelInfo::new(
        spec.clone(),
        Some(&weights),
        t.classes().to_vec(),
        config,
    );
    let bytes = pollster::block_on(kindling::model::file::export(t.model(), &info)).unwrap();
    let device = burn::tensor::Device::flex();
    let (model, back) =
        kindling::model::file::import(&bytes, Some(&spec), Some(&weights), &device).unwrap();
    assert!(back.every_layer);
    assert_eq!(model.backbone.feature_dim(), 7 * 384);
    let rows = kindling::data::encoder_rows(&tokenizer(), &["what a lovely day", "awful"], 64);
    let predict = |m: kindling::model::Classifier| {
        let p = kindling::model::Predictor::new(m, &device);
        pollster::block_on(p.predict(&rows, 3, &device))
            .unwrap()
            .into_iter()
            .flat_map(|p| p.probabilities)
            .collect::<Vec<f32>>()
    };
    let trained = predict(t.model().clone());
    let imported = predict(model);
    let worst = trained
        .iter()
        .zip(&imported)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-4, "{trained:?} vs {imported:?}");
}

/// `per_class` tweets of each sentiment from the pinned tweet corpus (the first ones, in file order).
fn tweets(per_class: usize) -> (Vec<String>, Vec<String>) {
    use kindling::data::text_table::{Column, parse_delimited};
    let path = PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/kindling/data/tweets.csv");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run ./build.sh setup", path.display()));
    let table = parse_delimited(
        &String::from_utf8_lossy(&bytes),
        ',',
        &Column::Name("text".into()),
        &Column::Name("sentiment".into()),
        None,
    )
    .unwrap();
    assert!(
        table.examples.len() > 30_000,
        "{} tweets",
        table.examples.len()
    );
    let mut counts = std::collections::HashMap::new();
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for e in table.examples {
        let n = counts.entry(e.label.clone()).or_insert(0);
        if *n < per_class {
            *n += 1;
            texts.push(e.text);
            labels.push(e.label);
        }
    }
    (texts, labels)
}

fn tweet_macro_f1(strategy: kindling::config::Strategy, lr: f64) -> f64 {
    use kindling::config::TrainConfig;
    let config = TrainConfig {
        strategy,
        epochs: 8,
        batch_size: 16,
        learning_rate: lr,
        backbone_lr_multiplier: 0.1,
        validation_fraction: 0.25,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let mut t = tweet_run(config, 120);
    pollster::block_on(t.fit()).unwrap();
    pollster::block_on(t.evaluate()).unwrap().report.macro_f1
}

/// A run of `config` on MiniLM over `per_class` tweets of each sentiment.
fn tweet_run(
    config: kindling::config::TrainConfig,
    per_class: usize,
) -> kindling::train::TrainingRun {
    let device = burn::tensor::Device::flex().autodiff();
    let (texts, labels) = tweets(per_class);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let rows = kindling::data::encoder_rows(&tokenizer(), &refs, 64);
    let mut data = kindling::data::Dataset::new(128);
    for (i, label) in labels.iter().enumerate() {
        data.add(&rows[i * 128..(i + 1) * 128], label).unwrap();
    }
    let path = minilm_dir().join("model.safetensors");
    let spec = kindling::backbone::BackboneSpec::Bert {
        heads: 12,
        max_len: 64,
        normalize: true,
    };
    let net =
        kindling::backbone::Backbone::load(&spec, &std::fs::read(path).unwrap(), &device).unwrap();
    kindling::train::TrainingRun::new(config, net, data, None, &device).unwrap()
}

/// The Contrastive recipe on the real encoder (sequences with attention masks): the first epoch
/// is the frozen encoder's solved head, every block then learns from pairs, and the head solved
/// on the moved features still classifies.
#[test]
fn the_contrastive_recipe_fine_tunes_every_minilm_layer_from_pairs() {
    use kindling::config::TrainConfig;
    use kindling::train::recipe::Recipe;
    let (config, _) = Recipe::Contrastive.apply(TrainConfig::default());
    let config = TrainConfig {
        epochs: 3,
        validation_fraction: 0.25,
        ..config
    };
    let mut t = tweet_run(config, 40);
    let before: Vec<f32> = layer_weights(&t);
    let history = pollster::block_on(t.fit()).unwrap();
    assert_eq!(history.len(), 3);
    assert_ne!(layer_weights(&t), before, "the first layer did not train");

    let f1 = pollster::block_on(t.evaluate()).unwrap().report.macro_f1;
    let probe = history[0].val_macro_f1;
    println!(
        "tweet sentiment, 40 per class, contrastive: macro-F1 {probe:.3} solved on the frozen encoder, {f1:.3} after 2 epochs of pairs"
    );
    // The pairs moved the features the way the head could use (measured: 0.704 → 0.737).
    assert!(f1 > probe, "pairs did not help: {probe} → {f1}");
    assert!(
        f1 >= 0.68,
        "validation macro-F1 {f1} (0.737 measured; chance ≈ 0.33)"
    );
}

/// The values of the encoder's first layer's parameters.
fn layer_weights(t: &kindling::train::TrainingRun) -> Vec<f32> {
    t.model()
        .flat_params()
        .into_iter()
        .filter(|(path, _)| path.contains("blocks.0."))
        .flat_map(|(_, v)| v.into_data().try_into_vec_as::<f32>().unwrap())
        .collect()
}

#[test]
fn a_head_on_minilm_learns_tweet_sentiment_frozen_and_with_two_layers_trainable() {
    use kindling::config::Strategy;
    let frozen = tweet_macro_f1(Strategy::FeatureExtraction, 1e-2);
    assert!(
        frozen >= 0.72,
        "frozen: validation macro-F1 {frozen} (chance ≈ 0.33)"
    );
    let partial = tweet_macro_f1(
        Strategy::Partial {
            trainable_blocks: 2,
        },
        3e-3,
    );
    assert!(
        partial >= 0.72,
        "last 2 layers: validation macro-F1 {partial} (chance ≈ 0.33)"
    );
    println!("tweet sentiment macro-F1: frozen {frozen:.3}, last 2 layers {partial:.3}");
}

/// A random BERT of another size (hidden 32, 2 layers, 4 heads, vocab 50) written as a Hugging
/// Face safetensors file with a `bert.` prefix.
fn tiny_bert_file() -> Vec<u8> {
    let (h, inter, vocab) = (32usize, 64usize, 50usize);
    let mut tensors: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![vocab, h]),
        ("embeddings.position_embeddings.weight".into(), vec![64, h]),
        ("embeddings.token_type_embeddings.weight".into(), vec![2, h]),
        ("embeddings.LayerNorm.weight".into(), vec![h]),
        ("embeddings.LayerNorm.bias".into(), vec![h]),
    ];
    for i in 0..2 {
        let p = format!("encoder.layer.{i}");
        for (n, shape) in [
            ("attention.self.query", vec![h, h]),
            ("attention.self.key", vec![h, h]),
            ("attention.self.value", vec![h, h]),
            ("attention.output.dense", vec![h, h]),
            ("intermediate.dense", vec![inter, h]),
            ("output.dense", vec![h, inter]),
        ] {
            tensors.push((format!("{p}.{n}.weight"), shape.clone()));
            tensors.push((format!("{p}.{n}.bias"), vec![shape[0]]));
        }
        for n in ["attention.output.LayerNorm", "output.LayerNorm"] {
            tensors.push((format!("{p}.{n}.weight"), vec![h]));
            tensors.push((format!("{p}.{n}.bias"), vec![h]));
        }
    }
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let n: usize = shape.iter().product();
            let bytes = (0..n)
                .flat_map(|i| (((i * 7 + k * 13) % 17) as f32 / 17.0 - 0.5).to_le_bytes())
                .collect();
            (format!("bert.{name}"), shape, bytes)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn another_bert_size_loads_from_its_config_and_an_incompatible_one_is_explained() {
    use kindling::backbone::{Backbone, BackboneSpec};
    let device = burn::tensor::Device::flex();
    let config = r#"{"model_type": "bert", "hidden_act": "gelu", "num_attention_heads": 4, "hidden_size": 32}"#;
    let spec = BackboneSpec::bert_from_config(config, 16).unwrap();
    let net = Backbone::load(&spec, &tiny_bert_file(), &device).unwrap();
    assert_eq!((net.num_blocks(), net.feature_dim()), (2, 32));
    let rows = vec![
        2.0, 5.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0,
        1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    let f = net
        .forward_blocks(net.input(rows, 1, &device), 0..2, false)
        .into_features();
    assert_eq!(f.dims(), [1, 32]);
    // 5 heads do not divide 32.
    let bad_heads = BackboneSpec::Bert {
        heads: 5,
        max_len: 16,
        normalize: true,
    };
    let err = Backbone::load(&bad_heads, &tiny_bert_file(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("multiple of the number of heads"), "{err}");
    // Too long for the model's 64 positions.
    let too_long = BackboneSpec::Bert {
        heads: 4,
        max_len: 100,
        normalize: true,
    };
    assert!(
        Backbone::load(&too_long, &tiny_bert_file(), &device)
            .err()
            .unwrap()
            .to_string()
            .contains("max_len")
    );
    // Not a BERT file, not a BERT config.
    let mobilenet = std::fs::read(
        minilm_dir()
            .parent()
            .unwrap()
            .join("mobilenet_v2.safetensors"),
    )
    .unwrap();
    let err = Backbone::load(&spec, &mobilenet, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not BERT encoder weights"), "{err}");
    let err =
        BackboneSpec::bert_from_config(r#"{"model_type": "gpt2", "num_attention_heads": 12}"#, 16)
            .unwrap_err();
    assert!(err.to_string().contains("gpt2"));
}

/// The memory estimate behind "50,000 short texts train with the frozen encoder" (README,
/// Limits): their token rows are held (1 KB each at 128 tokens) and the cache keeps 384 pooled
/// values per text, well inside a tab.
#[test]
fn fifty_thousand_texts_fit_a_tab_with_the_frozen_encoder() {
    use kindling::config::{Strategy, TrainConfig};
    use kindling::train::TrainingRun;
    let device = burn::tensor::Device::flex().autodiff();
    let max_len = 128;
    let mut data = kindling::data::Dataset::new(2 * max_len);
    let row = |i: usize| {
        let mut r = vec![0.0f32; 2 * max_len];
        r[0] = 101.0;
        r[1] = 1000.0 + (i % 7) as f32;
        r[max_len] = 1.0;
        r[max_len + 1] = 1.0;
        r
    };
    for i in 0..50_000 {
        data.add(&row(i), ["negative", "neutral", "positive"][i % 3])
            .unwrap();
    }
    let spec = kindling::backbone::BackboneSpec::Bert {
        heads: 12,
        max_len,
        normalize: true,
    };
    let path = minilm_dir().join("model.safetensors");
    let net =
        kindling::backbone::Backbone::load(&spec, &std::fs::read(path).unwrap(), &device).unwrap();
    let config = TrainConfig {
        strategy: Strategy::FeatureExtraction,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let e = TrainingRun::new(config, net, data, None, &device)
        .unwrap()
        .memory_estimate();
    println!("{e:?}");
    // Above 10,000 texts text_features auto reads the last layer only (every layer would be 7×).
    assert_eq!(e.cache_bytes, 4 * 2 * 50_000 * 384, "pooled embeddings");
    assert_eq!(
        e.example_bytes,
        4 * 50_000 * 256,
        "token ids and masks held"
    );
    // 154 MB of cache, 51 MB of rows, 90 MB of weights: 295 MB.
    assert!(e.total_bytes < 320_000_000, "{e:?}");
    e.check_fits(3 << 30).unwrap();
}
