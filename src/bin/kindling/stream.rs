//! Image folders streamed from disk: the data set keeps only labels (`Dataset::rows_elsewhere`)
//! and a run asks for the rows of the examples its next step needs (`TrainingRun::input_request`,
//! the same protocol the browser answers). Each request is decoded on every core, and the chunk
//! after it is decoded in the background while the run computes, so the backbone does not wait
//! for the disk. Memory then holds a chunk of rows at a time beside the cache of the frozen
//! part's activations, instead of every image's 600 KB of rows.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use kindling::data::image::{Preprocess, decode_file};
use kindling::train::TrainingRun;
use kindling::{Error, Result};
use rayon::prelude::*;

/// The files behind a streamed data set, in example order, and how to turn one into a row.
pub struct ImageStream {
    files: Arc<Vec<PathBuf>>,
    preprocess: Preprocess,
    /// The chunk being decoded ahead: its examples and the decoding thread.
    ahead: Option<(Vec<usize>, JoinHandle<Result<Vec<f32>>>)>,
}

/// Decodes and preprocesses `indices` of `files` on every core, in order.
fn rows(files: &[PathBuf], preprocess: &Preprocess, indices: &[usize]) -> Result<Vec<f32>> {
    let decoded: Vec<Vec<f32>> = indices
        .par_iter()
        .map(|&i| {
            let path = files.get(i).ok_or_else(|| {
                Error::State(format!(
                    "internal: the run asked for example {i} of {}",
                    files.len()
                ))
            })?;
            Ok(preprocess.eval(&decode_file(path)?))
        })
        .collect::<Result<_>>()?;
    Ok(decoded.concat())
}

impl ImageStream {
    pub fn new(files: Vec<PathBuf>, preprocess: Preprocess) -> Self {
        Self {
            files: Arc::new(files),
            preprocess,
            ahead: None,
        }
    }

    /// Completes `run`'s cache of its frozen part outside training (a finished run resumed from
    /// its checkpoint is evaluated and exported from it).
    pub fn complete_cache(&mut self, run: &mut TrainingRun) -> Result<()> {
        while run.caching_progress().is_some() {
            self.supply(run)?;
            run.cache_next_chunk()?;
        }
        Ok(())
    }

    /// Gives `run` the rows its next step asks for, if it asks, and starts decoding the chunk
    /// after them (the frozen part's cache is filled in example order).
    pub fn supply(&mut self, run: &mut TrainingRun) -> Result<()> {
        let Some(request) = run.input_request() else {
            return Ok(());
        };
        if request.augmented {
            return Err(Error::State(
                "internal: a streamed image folder cannot augment (augmenting runs hold their images)".into(),
            ));
        }
        let values = match self.ahead.take() {
            Some((indices, thread)) if indices == request.indices => thread
                .join()
                .map_err(|_| Error::State("the image decoding thread failed".into()))??,
            _ => rows(&self.files, &self.preprocess, &request.indices)?,
        };
        run.supply_inputs(&request.indices, values)?;
        let next_start = request.indices.last().map_or(0, |&i| i + 1);
        let next: Vec<usize> =
            (next_start..(next_start + request.indices.len()).min(self.files.len())).collect();
        if !next.is_empty() {
            let (files, preprocess, indices) =
                (self.files.clone(), self.preprocess.clone(), next.clone());
            let thread = std::thread::spawn(move || rows(&files, &preprocess, &indices));
            self.ahead = Some((next, thread));
        }
        Ok(())
    }
}
