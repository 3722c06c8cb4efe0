//! The wasm API's sweeps: the project's examples and settings compared over several runs (see
//! `train::sweep`). Each run the sweep hands out becomes the project's current run, so the worker
//! drives it with the same `step()` / `inputRequest()` / `supplyImages()` as a single run, then
//! gives it back with `sweepFinish()`. A sweep's runs never replace the project's model: a row
//! becomes the model when its file is imported (`importModel`).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::Project;
use super::state::{ProjectState, load_backbone};
use super::{from_js, to_js};
use crate::error::Error;
use crate::train::recipe::DataProfile;
use crate::train::sweep::{Sweep, SweepSpec, SweepTask};

/// The sweep of a project: its plan and results, the task of the run it handed out, the model
/// file of the row finished last (until `takeSweepModel`), and the project's own run, set aside
/// while the sweep's runs take its place.
pub(super) struct SweepState {
    pub(super) sweep: Sweep,
    pub(super) task: Option<SweepTask>,
    pub(super) model: Option<Vec<u8>>,
    project_run: Option<(
        crate::train::TrainingRun,
        Option<crate::train::MemoryEstimate>,
    )>,
}

impl ProjectState {
    /// Plans a sweep over the project's examples and settings (`spec` as `SweepSpec`), replacing
    /// an earlier one; nothing runs until `sweepNext()`. `profile` (a `DataProfile`, as
    /// `adaptRecipe` takes; optional) says whether every image is greyscale, to which a recipe's
    /// augmentation adapts; without it, images are not assumed greyscale.
    pub fn start_sweep(&mut self, spec: JsValue, profile: JsValue) -> Result<JsValue, JsError> {
        let spec: SweepSpec = from_js(spec, "sweep")?;
        let profile: DataProfile = match profile.is_undefined() || profile.is_null() {
            true => DataProfile {
                images: self.spec.preprocess().is_some(),
                ..DataProfile::default()
            },
            false => from_js(profile, "profile")?,
        };
        let num_blocks = self.backbone(&burn::tensor::Device::flex())?.num_blocks();
        let sweep = Sweep::new(
            &spec,
            &self.config,
            &self.augment,
            self.data.clone(),
            num_blocks,
            &profile,
        )?;
        let entries = to_js(&sweep.entries())?;
        self.end_sweep();
        let project_run = self.run.take().map(|run| (run, self.estimate.take()));
        self.sweep = Some(SweepState {
            sweep,
            task: None,
            model: None,
            project_run,
        });
        Ok(entries)
    }

    fn sweep_state(&mut self) -> Result<&mut SweepState, Error> {
        self.sweep
            .as_mut()
            .ok_or_else(|| Error::State("no sweep: call startSweep() first".into()))
    }

    /// Makes the sweep's next run the current one: `{task: "baseline"}` (step it while `caching`
    /// is not null), `{task: "entry", entry, name}` (step it to its end), or `null` when done.
    pub fn sweep_next(&mut self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Next<'a> {
            task: &'a str,
            entry: Option<usize>,
            name: Option<&'a str>,
        }
        let device = self.device.device.clone();
        let state = self
            .sweep
            .as_mut()
            .ok_or_else(|| Error::State("no sweep: call startSweep() first".into()))?;
        let (spec, weights, seed) = (&self.spec, &self.weights, self.config.seed);
        let backbone =
            |device: &burn::tensor::Device| load_backbone(spec, weights.as_deref(), seed, device);
        let Some((task, mut run)) = state.sweep.start_next(&backbone, &device)? else {
            self.end_sweep();
            return Ok(JsValue::NULL);
        };
        let augment = state.sweep.augment_of(task);
        let next = match task {
            SweepTask::Baseline => to_js(&Next {
                task: "baseline",
                entry: None,
                name: None,
            })?,
            SweepTask::Entry(i) => to_js(&Next {
                task: "entry",
                entry: Some(i),
                name: Some(&state.sweep.entries()[i].name),
            })?,
        };
        state.task = Some(task);
        run.set_augmenter(self.augmenter_for(&augment));
        let estimate = run.memory_estimate();
        if let Some(budget) = crate::train::TAB_BUDGET_BYTES {
            estimate.check_fits(budget)?;
        }
        self.estimate = Some(estimate);
        self.run = Some(run);
        self.run_augment = augment;
        self.restart_augmentation();
        Ok(next)
    }

    /// Takes back the current run: the baselines after the baseline task, else the entry's row
    /// (its model file waits for `takeSweepModel`).
    pub async fn sweep_finish(&mut self) -> Result<JsValue, JsError> {
        let task = self
            .sweep_state()?
            .task
            .ok_or_else(|| Error::State("no sweep run to finish: call sweepNext() first".into()))?;
        let run = self
            .run
            .take()
            .ok_or_else(|| Error::State("the sweep's run is gone: start the sweep again".into()))?;
        let (spec, weights) = (self.spec.clone(), self.weights.clone());
        let state = self.sweep_state()?;
        state.task = None;
        match task {
            SweepTask::Baseline => to_js(&state.sweep.finish_baseline(run).await?),
            SweepTask::Entry(i) => {
                let (row, model) = state
                    .sweep
                    .finish_entry(i, run, &spec, weights.as_deref())
                    .await?;
                state.model = Some(model);
                to_js(&row)
            }
        }
    }

    /// Ends the sweep's part in the project (its leaderboard stays): a run it left unfinished is
    /// dropped and the project's own run comes back.
    pub fn end_sweep(&mut self) {
        let Some(state) = self.sweep.as_mut() else {
            return;
        };
        if state.task.take().is_some() {
            self.run = None;
            self.estimate = None;
        }
        if let Some((run, estimate)) = state.project_run.take() {
            self.run = Some(run);
            self.estimate = estimate;
            self.run_augment = self.augment.clone();
        }
    }

    /// The model file of the row finished last (once).
    pub fn take_sweep_model(&mut self) -> Result<Vec<u8>, JsError> {
        Ok(self.sweep_state()?.model.take().ok_or_else(|| {
            Error::State("no sweep row's model is waiting: finish a sweep run first".into())
        })?)
    }

    /// The leaderboard so far (`null` before any sweep).
    pub fn leaderboard(&self) -> Result<JsValue, JsError> {
        match &self.sweep {
            Some(state) => to_js(&state.sweep.leaderboard()),
            None => Ok(JsValue::NULL),
        }
    }

    /// The current run's baselines, when its cache of the whole backbone's features is complete.
    pub async fn baselines(&mut self) -> Result<JsValue, JsError> {
        let Some(run) = self.run.as_mut() else {
            return Ok(JsValue::NULL);
        };
        if run.caching_progress().is_some() {
            return Ok(JsValue::NULL);
        }
        to_js(&run.baselines().await?)
    }

    /// Whether the current run belongs to a sweep (its end does not replace the model).
    pub(super) fn run_is_sweeps(&self) -> bool {
        self.sweep.as_ref().is_some_and(|s| s.task.is_some())
    }
}

/// The project's sweep methods (the rest of the class: `web/mod.rs`).
#[wasm_bindgen]
impl Project {
    /// Plans a sweep over the examples and settings: `{recipes: [...]}`, `{grid: {field: [...]}}`,
    /// `{random: {draws, seed, fields}}` or `{folds: {k, train_final}}`; `profile` (optional,
    /// `{smallest_class, images, greyscale}` as `adaptRecipe` takes) lets a recipe's augmentation
    /// adapt to the images as a single run of it does. Returns the planned entries `[{name,
    /// config, augment, split, notes?}]`; nothing runs until `sweepNext()`.
    #[wasm_bindgen(js_name = startSweep)]
    pub fn start_sweep(&self, spec: JsValue, profile: JsValue) -> Result<JsValue, JsError> {
        self.state_mut()?.start_sweep(spec, profile)
    }

    /// Makes the sweep's next run current: `{task: "baseline"}` (step while `caching` is not
    /// null), `{task: "entry", entry, name}` (step until `finished`), or `null` when done.
    #[wasm_bindgen(js_name = sweepNext)]
    pub fn sweep_next(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.sweep_next()
    }

    /// Takes back the current sweep run: the baselines `{nearest_centroid, knn, k}` after the
    /// baseline task, else the entry's leaderboard row (its model file: `takeSweepModel()`).
    #[wasm_bindgen(js_name = sweepFinish)]
    pub async fn sweep_finish(&self) -> Result<JsValue, JsError> {
        self.state_mut()?.sweep_finish().await
    }

    /// Ends the sweep early (after a stop): drops its unfinished run and brings the project's own
    /// run back; the leaderboard stays.
    #[wasm_bindgen(js_name = endSweep)]
    pub fn end_sweep(&self) -> Result<(), JsError> {
        self.state_mut()?.end_sweep();
        Ok(())
    }

    /// The model file of the sweep row finished last.
    #[wasm_bindgen(js_name = takeSweepModel)]
    pub fn take_sweep_model(&self) -> Result<Vec<u8>, JsError> {
        self.state_mut()?.take_sweep_model()
    }

    /// The sweep's leaderboard: `{baselines, rows, ranking, planned, cross_validation,
    /// cache_chunks_computed}`, or `null` before any sweep.
    #[wasm_bindgen(getter)]
    pub fn leaderboard(&self) -> Result<JsValue, JsError> {
        self.state()?.leaderboard()
    }
}
