//! `kindling train --features FILE`: the frozen backbone's features of every example, their
//! labels and the run's train/validation split, as a safetensors file (`features` [n, dim] f32;
//! `labels`, `train`, `validation` i64; with `--test`, `test_features` and `test_labels`) — so that baselines computed outside kindling (the
//! quality benchmark's logistic regression in numpy, `./build.sh quality`) see exactly the
//! features and the split the run trained and was scored on.

use std::path::Path;

use kindling::config::{Strategy, TrainConfig};
use kindling::train::TrainingRun;
use kindling::{Error, Result};
use safetensors::tensor::{Dtype, TensorView};

use crate::report::write_file;

/// Refuses `--features` before training when the run's features are not the frozen backbone's.
pub fn check(config: &TrainConfig) -> Result<()> {
    if matches!(config.strategy, Strategy::FeatureExtraction) {
        return Ok(());
    }
    Err(Error::config(
        "features",
        "--features needs a frozen backbone (the quick recipe, or strategy feature_extraction): only then does the run train on the pretrained backbone's features",
    ))
}

fn little_endian_i64(values: &[usize]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| (v as i64).to_le_bytes())
        .collect()
}

/// Writes the run's frozen features, `labels` (by example) and split to `path`, and the
/// held-out test set's features and labels when given.
pub fn write(
    path: &Path,
    run: &mut TrainingRun,
    labels: &[usize],
    test: Option<((Vec<f32>, usize), &[usize])>,
) -> Result<()> {
    let Some((features, dim)) = pollster::block_on(run.frozen_features())? else {
        return check(run.config());
    };
    let rows = features.len() / dim.max(1);
    let bytes: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
    let split = run.split();
    let mut columns = vec![
        ("features", Dtype::F32, vec![rows, dim], bytes),
        (
            "labels",
            Dtype::I64,
            vec![labels.len()],
            little_endian_i64(labels),
        ),
        (
            "train",
            Dtype::I64,
            vec![split.train.len()],
            little_endian_i64(&split.train),
        ),
        (
            "validation",
            Dtype::I64,
            vec![split.validation.len()],
            little_endian_i64(&split.validation),
        ),
    ];
    if let Some(((test_features, test_dim), test_labels)) = test {
        let test_rows = test_features.len() / test_dim.max(1);
        columns.push((
            "test_features",
            Dtype::F32,
            vec![test_rows, test_dim],
            test_features.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
        columns.push((
            "test_labels",
            Dtype::I64,
            vec![test_labels.len()],
            little_endian_i64(test_labels),
        ));
    }
    let views = columns
        .iter()
        .map(|(name, dtype, shape, data)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|view| (name.to_string(), view))
                .map_err(|e| Error::State(format!("internal: features file, {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let file = safetensors::serialize(views, None)
        .map_err(|e| Error::State(format!("internal: features file: {e}")))?;
    write_file(path, &file, "features file")
}
