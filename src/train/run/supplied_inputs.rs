//! Inputs supplied from outside, for a run whose data set keeps its rows elsewhere (a browser
//! keeps its images encoded, outside wasm memory): the run says which examples its next step
//! needs ([`TrainingRun::input_request`]), its owner decodes them and hands their rows over
//! ([`TrainingRun::supply_inputs`]), and the next `step()` uses them once. Memory then holds one
//! chunk or batch of rows at a time, beside the cache of what the frozen prefix computes.

use serde::Serialize;

use super::TrainingRun;
use super::frozen_prefix::CACHE_CHUNK;
use super::state::Phase;
use crate::error::{Error, Result};

/// The examples whose input rows the next step needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputRequest {
    /// Example indices, in the order their rows are to be supplied.
    pub indices: Vec<usize>,
    /// Whether the rows are for a training batch and must come augmented (the run's augmenter
    /// says `augments_elsewhere`); if not, they are the plain evaluation inputs that fill the
    /// frozen prefix's cache.
    pub augmented: bool,
}

/// Rows handed to the run for one request, used by the next step.
pub(super) struct SuppliedRows {
    pub indices: Vec<usize>,
    pub rows: Vec<f32>,
}

impl TrainingRun {
    /// What the next step needs from outside, or `None` when it can run (the data set holds its
    /// rows, the needed rows were supplied, or the step needs none). It may start the next epoch
    /// (drawing its order) so as to name that epoch's first batch.
    pub fn input_request(&mut self) -> Option<InputRequest> {
        let request = self.input_need()?;
        let supplied = self
            .supplied
            .as_ref()
            .is_some_and(|s| s.indices == request.indices);
        (!supplied).then_some(request)
    }

    /// Hands over the rows of `indices` (one row of the data set's size each), which must be
    /// what [`TrainingRun::input_request`] asks for now.
    pub fn supply_inputs(&mut self, indices: &[usize], rows: Vec<f32>) -> Result<()> {
        let Some(request) = self.input_need() else {
            return Err(Error::State(
                "this run needs no inputs now; call step()".into(),
            ));
        };
        if request.indices != indices {
            return Err(Error::State(format!(
                "the run asked for the inputs of {} examples starting at example {}, not these {}",
                request.indices.len(),
                request.indices.first().copied().unwrap_or(0),
                indices.len()
            )));
        }
        let dim = self.data.dim();
        if indices.len().checked_mul(dim) != Some(rows.len()) {
            return Err(Error::Data(format!(
                "{} values do not make {} inputs of {dim} values each",
                rows.len(),
                indices.len()
            )));
        }
        if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "the input of example {} has a non-finite value",
                indices[i / dim.max(1)]
            )));
        }
        self.supplied = Some(SuppliedRows {
            indices: indices.to_vec(),
            rows,
        });
        Ok(())
    }

    /// The rows the next step needs from outside, whether or not they were supplied already.
    pub fn input_need(&mut self) -> Option<InputRequest> {
        let augmented_elsewhere = self
            .augmenter
            .as_ref()
            .is_some_and(|a| a.augments_elsewhere());
        if self.data.rows_held() && !augmented_elsewhere {
            return None;
        }
        if matches!(self.phase, Phase::BetweenEpochs) {
            self.apply_unfreezing();
        }
        if !self.data.rows_held()
            && let Some(indices) = self.next_cache_chunk(CACHE_CHUNK)
        {
            return Some(InputRequest {
                indices,
                augmented: false,
            });
        }
        if !augmented_elsewhere {
            return None;
        }
        if matches!(self.phase, Phase::BetweenEpochs) {
            let epoch = self.start_epoch();
            self.phase = Phase::InEpoch(epoch);
        }
        match &self.phase {
            Phase::InEpoch(epoch) => Some(InputRequest {
                indices: epoch.peek_batch().to_vec(),
                augmented: true,
            }),
            _ => None,
        }
    }

    /// The supplied rows of `indices`, taken (each supply is used once); an error naming what
    /// to supply when they were not.
    pub(super) fn take_supplied(&mut self, indices: &[usize]) -> Result<Vec<f32>> {
        match self.supplied.take() {
            Some(s) if s.indices == indices => Ok(s.rows),
            other => {
                self.supplied = other;
                Err(Error::State(format!(
                    "the run needs the inputs of {} examples starting at example {} first: \
                     ask input_request() and supply them",
                    indices.len(),
                    indices.first().copied().unwrap_or(0)
                )))
            }
        }
    }
}
