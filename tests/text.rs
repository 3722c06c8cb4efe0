#![cfg(not(target_arch = "wasm32"))]
//! all-MiniLM-L6-v2's tokenizer against Hugging Face `tokenizers` (ids made once by
//! tests/reference/minilm_tokenizer_reference.py and committed).

use std::path::PathBuf;

use kindling::text::Tokenizer;

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
    let rows = kindling::text::encoder_rows(&tokenizer(), texts, 128);
    let x = net.input(rows, texts.len(), &device);
    let features = net
        .forward_blocks(x, 0..net.num_blocks(), false)
        .into_features();
    let flat = features.into_data().try_into_vec_as::<f32>().unwrap();
    flat.chunks(384).map(<[f32]>::to_vec).collect()
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
