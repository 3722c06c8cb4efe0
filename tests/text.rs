#![cfg(not(target_arch = "wasm32"))]
//! all-MiniLM-L6-v2's tokenizer against Hugging Face `tokenizers` (ids made once by
//! tests/reference/minilm_tokenizer_reference.py and committed).

use std::path::PathBuf;

use kindling::text::Tokenizer;

fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("KINDLING_WEIGHTS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kindling/weights")
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
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm_tokenizer_reference.json");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let mut mismatches = Vec::new();
    for case in cases.as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let expected: Vec<u32> = case["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let ids = t.encode(text, 128);
        if ids != expected {
            mismatches.push(format!("{text:?}\n  ours:      {ids:?}\n  reference: {expected:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
