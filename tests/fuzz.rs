//! Property tests of every reader that user input reaches: model files, checkpoints, CSV/TSV/JSONL,
//! the tokenizer, `TrainConfig` JSON and `Rgba::new`. Each must answer any input with `Ok` or an
//! `Err` — never a panic, which in the browser traps the wasm and loses the project. `./build.sh
//! test` runs a fixed number of cases (proptest's seed is fixed per test, so CI is repeatable);
//! `./build.sh fuzz` runs many more (`PROPTEST_CASES`). Every crash found becomes a regression
//! test below.

mod common;

use std::sync::OnceLock;

use common::{DIM, device, fit, separable, trainer};
use kindling::backbone::BackboneSpec;
use kindling::config::TrainConfig;
use kindling::data::Tokenizer;
use kindling::data::image::{MAX_PIXELS, Rgba};
use kindling::data::text_table::{Column, TextFormat, columns, read_table};
use kindling::model::file::{FORMAT, ModelInfo, export, import};
use proptest::prelude::*;

/// A real model file and a real checkpoint of the test backbone, made once.
fn files() -> &'static (Vec<u8>, Vec<u8>) {
    static FILES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let config = TrainConfig {
            epochs: 2,
            batch_size: 8,
            early_stopping: None,
            ..TrainConfig::default()
        };
        let mut t = trainer(config.clone(), separable(6, 3));
        pollster::block_on(t.run_epoch()).unwrap();
        let checkpoint = pollster::block_on(t.checkpoint()).unwrap();
        fit(&mut t);
        let info = ModelInfo {
            format: FORMAT,
            kindling_version: "test".into(),
            backbone: spec(),
            backbone_hash: None,
            classes: t.classes().to_vec(),
            preprocess: None,
            config,
            temperature: None,
            every_layer: false,
        };
        let model = pollster::block_on(export(t.model(), &info)).unwrap();
        (model, checkpoint)
    })
}

fn spec() -> BackboneSpec {
    BackboneSpec::ToyMlp {
        widths: vec![DIM, 32, 32, 32],
    }
}

/// `bytes` with `edits` applied: each overwrites one byte (position taken modulo the length),
/// then the result is cut to `keep` of its length.
fn damaged(bytes: &[u8], edits: &[(usize, u8)], keep: f64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, value) in edits {
        let i = at % out.len();
        out[i] = value;
    }
    out.truncate((out.len() as f64 * keep) as usize);
    out
}

fn vocab() -> &'static Tokenizer {
    static VOCAB: OnceLock<Tokenizer> = OnceLock::new();
    VOCAB.get_or_init(|| {
        let words = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\na\n##s\nday\nhappy\n!\n,\n.\n";
        Tokenizer::from_vocab(words).unwrap()
    })
}

/// 64 cases per property in `./build.sh test`; `PROPTEST_CASES` (set by `./build.sh fuzz`) for
/// longer runs.
fn cases() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn model_file_reader_never_panics(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        keep in 0.0f64..=1.0,
    ) {
        let file = damaged(&files().0, &edits, keep);
        let _ = import(&file, Some(&spec()), None, &device());
    }

    #[test]
    fn checkpoint_reader_never_panics(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        keep in 0.0f64..=1.0,
    ) {
        let file = damaged(&files().1, &edits, keep);
        let device = device();
        let backbone = kindling::backbone::Backbone::build(&spec(), &mut kindling::rng::Rng::new(1), &device).unwrap();
        let _ = kindling::train::TrainingRun::from_checkpoint(&file, backbone, separable(6, 3), None, &device);
    }

    #[test]
    fn text_readers_never_panic_and_account_for_every_row(
        text in "[a-z\",\t\r\n{}:\\[\\] \u{feff}é]{0,200}",
        format in prop::sample::select(vec![TextFormat::Csv, TextFormat::Tsv, TextFormat::Jsonl]),
        by_position in any::<bool>(),
        header in prop::option::of(any::<bool>()),
    ) {
        let (t, l) = if by_position && format != TextFormat::Jsonl {
            (Column::Index(0), Column::Index(1))
        } else {
            (Column::Name("text".into()), Column::Name("label".into()))
        };
        let _ = columns(&text, format);
        if let Ok(table) = read_table(&text, format, &t, &l, header) {
            // Every example carries a non-blank text and label.
            prop_assert!(table.examples.iter().all(|e| !e.text.trim().is_empty() && !e.label.trim().is_empty()));
            let lines = text.split(['\n', '\r']).count().max(1);
            prop_assert!(table.skipped.iter().all(|s| s.line >= 1 && s.line <= lines));
        }
    }

    #[test]
    fn tokenizer_never_panics_and_respects_max_len(text in any::<String>(), max_len in 0usize..40) {
        let ids = vocab().encode(&text, max_len);
        prop_assert!(ids.len() <= max_len.max(2));
        prop_assert!(ids.iter().all(|&id| (id as usize) < vocab().vocab_size()));
    }

    #[test]
    fn config_json_never_panics(
        epochs in any::<i64>(),
        lr in any::<f64>(),
        hidden in prop::collection::vec(any::<u32>(), 0..4),
        fraction in any::<f64>(),
        extra in prop::option::of("[a-z_]{1,12}"),
    ) {
        let mut json = serde_json::json!({
            "epochs": epochs,
            "learning_rate": if lr.is_finite() { lr } else { 0.5 },
            "head": {"hidden": hidden},
            "validation_fraction": if fraction.is_finite() { fraction } else { 0.5 },
        });
        if let Some(name) = extra {
            json[name] = serde_json::json!(1);
        }
        if let Ok(config) = TrainConfig::from_json(&json.to_string())
            && config.validate(4).is_ok() {
                // Whatever validates can be trained without allocating beyond the bounds.
                prop_assert!(config.epochs <= kindling::config::validate::MAX_EPOCHS);
                prop_assert!(config.head.hidden.iter().all(|&h| h <= kindling::config::validate::MAX_HIDDEN_WIDTH));
            }
    }

    #[test]
    fn rgba_accepts_exactly_the_consistent_images(
        width in prop_oneof![0usize..64, any::<usize>()],
        height in prop_oneof![0usize..64, any::<usize>()],
        extra in 0usize..3,
    ) {
        let expected = width.checked_mul(height).filter(|&a| a > 0 && a <= MAX_PIXELS);
        let bytes = expected.map_or(extra, |a| a * 4);
        let made = Rgba::new(width, height, vec![0; bytes]);
        prop_assert_eq!(made.is_ok(), expected.is_some());
        if expected.is_some() {
            prop_assert!(Rgba::new(width, height, vec![0; bytes + 1]).is_err());
        }
    }
}

#[test]
fn the_undamaged_files_load() {
    let (model, checkpoint) = files();
    assert!(import(model, Some(&spec()), None, &device()).is_ok());
    assert!(kindling::train::checkpoint::read(checkpoint).is_ok());
}
