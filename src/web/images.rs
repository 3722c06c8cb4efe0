//! The wasm API's images. A project's images stay where JS keeps them (encoded files, outside
//! wasm memory): adding one records its class and a fingerprint of its pixels, and a run asks
//! for the pixels of the examples its next step needs (`inputRequest`), which the caller decodes
//! and hands over (`supplyImages`) to be preprocessed — and augmented, for training batches —
//! here. Memory then grows by labels and the frozen part's cache, not by pixels.

use wasm_bindgen::prelude::*;

use super::state::ProjectState;
use super::to_js;
use crate::data::image::{Preprocess, Rgba};
use crate::error::Error;
use crate::fingerprint::Fingerprint;

impl ProjectState {
    fn preprocess(&self) -> Result<&Preprocess, Error> {
        self.preprocess.as_ref().ok_or_else(|| {
            Error::State(format!(
                "{} takes feature vectors, not images; choose an image backbone",
                self.spec.name()
            ))
        })
    }

    /// The input of one RGBA image to predict, prepared as the trained model wants it.
    pub(super) fn image_row(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Vec<f32>, Error> {
        let pre = match &self.trained_preprocess {
            Some(pre) => pre,
            None => self.preprocess()?,
        };
        Ok(pre.eval(&Rgba::new(width, height, rgba.to_vec())?))
    }

    /// Adds one image (RGBA bytes, as `ImageData.data` gives) of class `class`: checked and
    /// fingerprinted, not kept — the caller keeps it and supplies its pixels when a run asks
    /// (the same pixels: the checkpoints of a run are tied to them). On error nothing is added.
    /// Returns the number of examples held.
    pub fn add_image(
        &mut self,
        rgba: &[u8],
        width: usize,
        height: usize,
        class: String,
    ) -> Result<usize, JsError> {
        self.preprocess()?;
        let img = Rgba::new(width, height, rgba.to_vec())?;
        let mut identity = Fingerprint::default();
        identity.update(&(img.width as u64).to_le_bytes());
        identity.update(&(img.height as u64).to_le_bytes());
        identity.update(&img.pixels);
        self.data.add_elsewhere(identity.hex().as_bytes(), &class)?;
        Ok(self.data.len())
    }

    /// What the current run needs before its next step: `{indices, augmented}` (the examples
    /// whose images to supply, in order; `augmented`: for a training batch), or `null`.
    pub fn input_request(&mut self) -> Result<JsValue, JsError> {
        match self.run.as_mut().and_then(|r| r.input_request()) {
            Some(request) => to_js(&request),
            None => Ok(JsValue::NULL),
        }
    }

    /// Caches the next chunk of the frozen prefix from the images supplied for it, outside a
    /// training step (a restored run completing its cache before it is evaluated); `false` when
    /// the cache was complete already (or there is no run).
    pub fn cache_next_chunk(&mut self) -> Result<bool, JsError> {
        match self.run.as_mut() {
            Some(run) => Ok(run.cache_next_chunk()?),
            None => Ok(false),
        }
    }

    /// The images of the examples `inputRequest()` names: their RGBA bytes one after another,
    /// and each one's width and height. They are preprocessed (augmented, for a training batch)
    /// and handed to the run; on error nothing changes.
    pub fn supply_images(
        &mut self,
        indices: &[u32],
        rgba: &[u8],
        widths: &[u32],
        heights: &[u32],
    ) -> Result<(), JsError> {
        let pre = self.preprocess()?.clone();
        if widths.len() != indices.len() || heights.len() != indices.len() {
            return Err(Error::Data(format!(
                "{} examples need {} widths and heights, got {} and {}",
                indices.len(),
                indices.len(),
                widths.len(),
                heights.len()
            ))
            .into());
        }
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| Error::State("no training run: call start() first".into()))?;
        let augmented = run.input_need().is_some_and(|r| r.augmented);
        // Drawn from a copy, kept only once the run has taken the rows: on error nothing changes.
        let mut rng = self.augment_rng.clone();
        let mut rows = Vec::with_capacity(indices.len().saturating_mul(pre.len()));
        let mut offset = 0usize;
        for (&w, &h) in widths.iter().zip(heights) {
            let (w, h) = (w as usize, h as usize);
            let bytes = w.saturating_mul(h).saturating_mul(4);
            let end = offset.saturating_add(bytes);
            let pixels = rgba.get(offset..end).ok_or_else(|| {
                Error::Data(format!(
                    "the images' sizes add up to more than the {} bytes given",
                    rgba.len()
                ))
            })?;
            let img = Rgba::new(w, h, pixels.to_vec())?;
            rows.extend(match augmented {
                true => pre.train(&img, &self.run_augment, &mut rng),
                false => pre.eval(&img),
            });
            offset = end;
        }
        if offset != rgba.len() {
            return Err(Error::Data(format!(
                "{} bytes were given for images of {offset} bytes",
                rgba.len()
            ))
            .into());
        }
        let indices: Vec<usize> = indices.iter().map(|&i| i as usize).collect();
        run.supply_inputs(&indices, rows)?;
        self.augment_rng = rng;
        Ok(())
    }
}
